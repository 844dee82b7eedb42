import AsyncHTTPClient
import Credentials
import Foundation
import Logging
import MicrosoftCloud
import Systemd
import TenantSyncConfig
import TenantSyncCore
@testable import TenantSyncDaemon
import TenantSyncStore
import Testing

/// The scheduler keeps every tenant's due date between changes, and what it answers stays the truth: after each
/// kind of change (a run starts, an account leaves the schedule, a tenant joins it, the window is reloaded, the
/// day turns) `status`'s next sync is what a scheduler computing everything afresh says. Real SQLite file.
@Suite("Kept due dates stay true", .serialized)
struct ScheduleDueDatesTests {
    struct Setup {
        let directory: String
        let store: SQLiteStore
        let settings: RuntimeSettings
        /// Keeps due dates between the changes the store reports.
        let kept: SyncScheduler
        /// Computes every due date afresh at each call: the oracle.
        let afresh: SyncScheduler
        let status: StatusReporter
        var accounts: [String: Int64] = [:]

        init(tenants: Int) async throws {
            directory = NSTemporaryDirectory() + "tenantsync-due-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let logger = Logger(label: "test")
            store = try SQLiteStore(path: directory + "/tenantsync.sqlite", sealer: SecretSealer(keyBytes: Array(repeating: 3, count: 32)), logger: logger)
            settings = try SyncSchedulingTests.settings()
            let now = Date()
            for index in 0..<tenants {
                let tenantID = Self.tenantID(index)
                try await store.upsertTenant(id: tenantID, domain: "tenant\(index).example", displayName: nil)
                let account = try await store.createAccount(tenantID: tenantID, service: .sharepointOnline, appID: nil, licensingModel: nil)
                try await store.setAccountState(id: account.id, state: .active, provisioningStep: nil, provisioningError: nil)
                accounts[tenantID] = account.id
                // Runs started on different days, so the tenants' due dates differ by more than their slots.
                let run = try await store.startSyncRun(tenantID: tenantID, service: nil, trigger: .daily, mode: .delta, at: now - Double(index % 3 + 1) * 86_400)
                try await store.finishSyncRun(runID: run.id, state: .succeeded, error: nil, at: run.startedAt + 60)
            }
            let graph = GraphClient(graphRoot: "http://127.0.0.1:9", http: HTTPClient.shared, logger: logger)
            let tokens = EmulatorTokenSource(baseURL: URL(string: "http://127.0.0.1:9")!, clientID: "unused", clientSecret: "unused")
            let synchronizer = DirectorySynchronizer(store: store, graph: graph, tokens: tokens, settings: .init(massDeletionThreshold: 0.2), logger: logger)
            kept = SyncScheduler(
                coordinator: SyncCoordinator(), synchronizer: synchronizer, store: store, settings: settings, heartbeat: Heartbeat(),
                changes: store, logger: logger
            )
            afresh = SyncScheduler(
                coordinator: SyncCoordinator(), synchronizer: synchronizer, store: store, settings: settings, heartbeat: Heartbeat(), logger: logger
            )
            status = StatusReporter(store: store, scheduler: kept, deliveryHealth: { .init() }, notifier: SystemdNotifier(), logger: logger)
        }

        static func tenantID(_ index: Int) -> String { String(format: "00000000-0000-0000-0000-%012d", index) }

        /// `status`'s next sync and the kept scheduler's plan against the afresh one's, at `now`.
        func expectTrue(at now: Date, _ after: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let truth = try await afresh.firstDue(now: now)
            let kept = try await kept.firstDue(now: now)
            #expect(kept?.tenant == truth?.tenant && kept?.at == truth?.at,
                    "after \(after): kept first due \(String(describing: kept)), afresh \(String(describing: truth))", sourceLocation: sourceLocation)
            #expect(try await self.kept.plan(now: now) == (try await afresh.plan(now: now)), "after \(after): the plans differ", sourceLocation: sourceLocation)
            if abs(now.timeIntervalSinceNow) < 60 {
                let reply = try await status.daemonStatus(startedAt: now).nextSync
                #expect(reply?.tenantID == truth?.tenant.tenantID && reply?.at == truth?.at,
                        "after \(after): status says \(String(describing: reply)), afresh \(String(describing: truth))", sourceLocation: sourceLocation)
            }
        }

        func cleanUp() {
            try? store.close()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    @Test func statusNamesTheTrueNextSyncAfterEveryKindOfChange() async throws {
        let setup = try await Setup(tenants: 12)
        defer { setup.cleanUp() }
        try await setup.expectTrue(at: Date(), "start")

        // While nothing changes, the kept dates answer without a query.
        _ = try await setup.kept.firstDue(now: Date())
        let before = setup.store.statements.value
        _ = try await setup.kept.firstDue(now: Date())
        _ = try await setup.kept.plan(now: Date())
        #expect(setup.store.statements.value == before, "kept due dates still read the store: \(setup.store.statements.value - before) statements")

        // The first tenant syncs now: its next slot moves a day on.
        let first = try #require(try await setup.afresh.firstDue(now: Date()))
        _ = try await setup.store.startSyncRun(tenantID: first.tenant.tenantID, service: nil, trigger: .manual, mode: .delta, at: Date())
        try await setup.expectTrue(at: Date(), "a run of the first tenant started")
        let moved = try #require(try await setup.kept.firstDue(now: Date()))
        #expect(moved.tenant.tenantID != first.tenant.tenantID || moved.at > first.at, "the tenant that just synced is still named first")

        // The next first tenant's account goes back to provisioning: it leaves the schedule.
        let second = try #require(setup.accounts[moved.tenant.tenantID])
        try await setup.store.setAccountState(id: second, state: .provisioning, provisioningStep: nil, provisioningError: nil)
        try await setup.expectTrue(at: Date(), "an account left the schedule")
        #expect(try await setup.kept.firstDue(now: Date())?.tenant.tenantID != moved.tenant.tenantID)

        // A tenant never synced joins: due at today's slot.
        let newcomer = Setup.tenantID(99)
        try await setup.store.upsertTenant(id: newcomer, domain: "newcomer.example", displayName: nil)
        let account = try await setup.store.createAccount(tenantID: newcomer, service: .sharepointOnline, appID: nil, licensingModel: nil)
        try await setup.store.setAccountState(id: account.id, state: .active, provisioningStep: nil, provisioningError: nil)
        try await setup.expectTrue(at: Date(), "a never-synced tenant joined")

        // A reload moves the window (nothing in the store changes).
        setup.settings.replace(with: try SyncSchedulingTests.settings(windowStart: "14:30", length: "2h").configuration)
        try await setup.expectTrue(at: Date(), "the window was reloaded")

        // The day turns: every jitter changes, and the never-synced tenant's slot with it.
        for days in 1...3 {
            try await setup.expectTrue(at: Date() + Double(days) * 86_400, "\(days) day(s) passed")
        }
    }
}
