import AsyncHTTPClient
import Foundation
import Logging
import M365Emulator
import MicrosoftCloud
import ServiceLifecycle
import Testing
import TestSupport
import TenantSyncConfig
import TenantSyncCore
@testable import TenantSyncDaemon
import TenantSyncStore

@Suite("Sync scheduling, coalescing, extend and selected targets", .serialized)
struct SyncSchedulingTests {
    static func settings(windowStart: String = "02:00", length: String = "4h") throws -> RuntimeSettings {
        let configuration = try ConfigurationLoader(environment: [:]).parse(
            text: "[sync]\ndaily_window_start = \"\(windowStart)\"\ndaily_window_length = \"\(length)\"\n", file: "test.toml"
        )
        return RuntimeSettings(configuration)
    }

    static func operations(_ fixture: SyncFixture, _ coordinator: SyncCoordinator) -> TenantOperations {
        TenantOperations(
            store: fixture.store,
            graph: GraphClient(graphRoot: fixture.url.absoluteString, http: HTTPClient.shared, logger: Logger(label: "test")),
            tokens: fixture.tokens, coordinator: coordinator, logger: Logger(label: "test")
        )
    }

    static func scheduler(_ fixture: SyncFixture, _ coordinator: SyncCoordinator, now: @escaping @Sendable () -> Date = { Date() }) throws -> SyncScheduler {
        SyncScheduler(
            coordinator: coordinator, synchronizer: fixture.synchronizer(), store: fixture.store, settings: try settings(),
            heartbeat: Heartbeat(), now: now, changes: fixture.store, logger: Logger(label: "test")
        )
    }

    static func activeAccount(_ fixture: SyncFixture, _ service: ServiceKind = .exchangeOnline) async throws {
        let account = try await fixture.store.createAccount(tenantID: fixture.tenant.id, service: service, appID: nil, licensingModel: nil)
        try await fixture.store.setAccountState(id: account.id, state: .active, provisioningStep: nil, provisioningError: nil)
    }

    @Test func dailySyncIsDueAtTheTenantsSlotAndOnlyOnceADay() async throws {
        try await SyncFixture.with(users: 20) { fixture in
            let coordinator = SyncCoordinator()
            let scheduler = try Self.scheduler(fixture, coordinator)
            #expect(try await scheduler.dueRequests(now: Date()).isEmpty, "no account yet: nothing to sync")
            try await Self.activeAccount(fixture)

            let day = 86_400.0
            let midnight = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / day).rounded(.down) * day)
            let slot = midnight + scheduler.schedule.offset(tenantID: fixture.tenant.id).secondsValue + 7_200
            let jitter = scheduler.jitter(tenantID: fixture.tenant.id, on: slot).secondsValue
            #expect(jitter >= 0 && jitter <= 144, "jitter stays within 1% of a 4h window")
            #expect(try await scheduler.dueRequests(now: slot - 1).isEmpty, "not before the tenant's slot")
            let due = try await scheduler.dueRequests(now: slot + jitter + 1)
            #expect(due == [.init(tenantID: fixture.tenant.id, trigger: .daily)], "a never-synced tenant is due once its slot passed")
            #expect(try await scheduler.nextDueDate(after: slot - 1) == slot + jitter)

            // The run happens a minute after its slot, whatever the time of day the test runs at.
            let runTime = slot + jitter + 60
            let run = try await fixture.synchronizer(now: { runTime }).run(tenantID: fixture.tenant.id, service: nil, trigger: .daily)
            #expect(abs(run.startedAt.timeIntervalSince(runTime)) < 1, "the run records the synchronizer's clock")
            #expect(try await scheduler.dueRequests(now: run.startedAt + 3_600).isEmpty, "synced today: not due again")
            let tomorrow = slot + day + scheduler.jitter(tenantID: fixture.tenant.id, on: slot + day).secondsValue + 1
            #expect(try await scheduler.dueRequests(now: tomorrow).count == 1, "due again the next day")
            #expect(try await scheduler.dueRequests(now: tomorrow + 2 * day).count == 1, "a slot missed while down is due at once")

            try await fixture.store.setSyncScope(tenantID: fixture.tenant.id, scope: .selected)
            #expect(try await scheduler.dueRequests(now: tomorrow).isEmpty, "a selected-scope tenant gets no scheduled sync")
        }
    }

    @Test func aReservedTenantStartsNoRunUntilReleased() async {
        let coordinator = SyncCoordinator()
        #expect(await coordinator.reserveIdle(tenantID: "t1"))
        #expect(await !coordinator.reserveIdle(tenantID: "t1"), "a reserved tenant cannot be reserved twice")
        await coordinator.submit(.init(tenantID: "t1", trigger: .manual))
        await coordinator.submit(.init(tenantID: "t2", trigger: .manual))
        #expect(await coordinator.next()?.tenantID == "t2", "the other tenant's run starts")
        #expect(await coordinator.next() == nil, "no run of the reserved tenant starts")
        await coordinator.release(tenantID: "t1")
        #expect(await coordinator.next() == .init(tenantID: "t1", trigger: .manual), "the request waited for the release")
        #expect(await !coordinator.reserveIdle(tenantID: "t1"), "a running tenant cannot be reserved")
    }

    @Test func manualRequestsDuringARunAreCoalescedIntoIt() async throws {
        try await SyncFixture.with(users: 50) { fixture in
            try await Self.activeAccount(fixture)
            let coordinator = SyncCoordinator()
            let operations = Self.operations(fixture, coordinator)
            let scheduler = try Self.scheduler(fixture, coordinator, now: { Date(timeIntervalSince1970: 0) })
            // Slow pages keep the first run going while more requests arrive.
            _ = try fixture.emulator.addFault(FaultRule(tenant: fixture.tenant.id, path: "/v1.0/users", kind: .delay, delayMilliseconds: 300))
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await scheduler.run() }
                let first = try await operations.requestManualSync(tenant: fixture.tenant.domain, service: nil)
                #expect(first.coalesced == false)
                // The scheduler took the request and the run is going (held by the slow pages): only now do the
                // next requests arrive "during a run".
                let running = try await eventually(timeout: .seconds(10), "first run started") { await coordinator.isRunning(tenantID: fixture.tenant.id) }
                try #require(running, "the scheduler never started the requested run")
                let second = try await operations.requestManualSync(tenant: fixture.tenant.domain, service: .exchangeOnline)
                let third = try await operations.requestManualSync(tenant: fixture.tenant.id, service: nil)
                #expect(second.coalesced && third.coalesced, "requests during a run join it")
                let run = try await coordinator.completion(tenantID: fixture.tenant.id)
                #expect(run.state == .succeeded)
                #expect(await coordinator.isBusy(tenantID: fixture.tenant.id) == false)
                group.cancelAll()
            }
            #expect(try await fixture.store.syncRuns(tenantID: fixture.tenant.id, limit: 10).count == 1, "one run for three requests")
        }
    }

    @Test func extendSwitchesTheSharedScopeAndRunsAFullSync() async throws {
        try await SyncFixture.with(users: 30) { fixture in
            try await Self.activeAccount(fixture, .exchangeOnline)
            try await Self.activeAccount(fixture, .onedrive)
            try await fixture.store.setSyncScope(tenantID: fixture.tenant.id, scope: .selected)
            let coordinator = SyncCoordinator()
            let operations = Self.operations(fixture, coordinator)
            let refused = await #expect(throws: TenantSyncError.self) {
                try await operations.requestManualSync(tenant: fixture.tenant.domain, service: nil)
            }
            #expect(refused?.code == .syncNotAllowedForSelectedScope)

            let scheduler = try Self.scheduler(fixture, coordinator)
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await scheduler.run() }
                let tenant = try await operations.extendToAllTargets(tenant: fixture.tenant.domain)
                #expect(tenant.syncScope == .all)
                let run = try await coordinator.completion(tenantID: fixture.tenant.id)
                #expect(run.trigger == .extend && run.mode == .full && run.state == .succeeded)
                group.cancelAll()
            }
            #expect(try await fixture.store.tenant(idOrDomain: fixture.tenant.id)?.syncScope == .all)
            #expect(try await fixture.store.directoryUsers(tenantID: fixture.tenant.id).count == (try fixture.emulatorUsers().count))
        }
    }

    @Test func selectedTargetsByExactNameAndByGroupWithinTheLimits() async throws {
        try await SyncFixture.with(users: 150, groups: 12) { fixture in
            let operations = Self.operations(fixture, SyncCoordinator())
            let users = try fixture.emulator.users(tenant: fixture.tenant.id, limit: 3)
            let added = try await operations.addSelectedTargets(tenant: fixture.tenant.domain, userPrincipalNames: [users[0].userPrincipalName.uppercased()], groupIDs: [])
            #expect(added.map(\.userPrincipalName) == [users[0].userPrincipalName], "stored with the directory's spelling")

            let unknown = await #expect(throws: TenantSyncError.self) {
                try await operations.addSelectedTargets(tenant: fixture.tenant.domain, userPrincipalNames: [users[1].userPrincipalName, "nobody@\(fixture.tenant.domain)"], groupIDs: [])
            }
            #expect(unknown?.code == .userNotFound)
            #expect(try await fixture.store.selectedTargets(tenantID: fixture.tenant.id).count == 1, "all or nothing")

            let short = await #expect(throws: TenantSyncError.self) { try await operations.searchGroups(tenant: fixture.tenant.domain, prefix: "ab") }
            #expect(short?.code == .groupPrefixTooShort)
            let someGroup = try #require(try fixture.emulator.groups(tenant: fixture.tenant.id).first { $0.memberCount > 0 && $0.state == .active })
            let found = try await operations.searchGroups(tenant: fixture.tenant.domain, prefix: String(someGroup.displayName.prefix(4)))
            #expect(found.contains { $0.id == someGroup.id })
            #expect(found.allSatisfy { $0.displayName?.lowercased().hasPrefix(someGroup.displayName.prefix(4).lowercased()) == true })

            let fromGroup = try await operations.addSelectedTargets(tenant: fixture.tenant.domain, userPrincipalNames: [], groupIDs: [someGroup.id])
            #expect(!fromGroup.isEmpty && fromGroup.allSatisfy { $0.source == .group })

            let everyone = try fixture.emulator.users(tenant: fixture.tenant.id, limit: 150).map(\.userPrincipalName)
            let tooMany = await #expect(throws: TenantSyncError.self) {
                try await operations.addSelectedTargets(tenant: fixture.tenant.domain, userPrincipalNames: Array(everyone.prefix(101)), groupIDs: [])
            }
            #expect(tooMany?.code == .tooManyTargets)

            try fixture.emulator.deleteUser(tenant: fixture.tenant.id, user: users[0].id, hard: true)
            #expect(try await operations.pruneSelectedTargets(tenant: fixture.tenant.domain) == [users[0].userPrincipalName])
            #expect(try await fixture.store.selectedTargets(tenantID: fixture.tenant.id).contains { $0.userPrincipalName == users[0].userPrincipalName } == false)
        }
    }
}
