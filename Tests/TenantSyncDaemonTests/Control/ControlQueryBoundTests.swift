import Credentials
import AsyncHTTPClient
import ControlPlane
import Foundation
import Logging
import MicrosoftCloud
import Systemd
import TenantSyncConfig
import TenantSyncCore
@testable import TenantSyncDaemon
import TenantSyncStore
import Testing

/// The control path and the scheduler cost a number of SQL statements independent of the number of tenants.
///
/// Counted with the store's statement counter (SQLite's statement trace) on a real SQLite file, through the
/// daemon's own control handler, status reporter and scheduler. Nothing here is timed.
@Suite("Control queries stay bounded as the fleet grows", .serialized)
struct ControlQueryBoundTests {
    /// A store holding `tenants` tenants, each with an active account, a token, runs, an incident on every
    /// third, a held run on every fifth and an alert with a pending delivery; and the daemon's parts over it.
    struct Fleet {
        let directory: String
        let store: SQLiteStore
        let control: DaemonControl
        let status: StatusReporter
        let scheduler: SyncScheduler
        let firstAccountID: Int64

        init(tenants: Int) async throws {
            directory = NSTemporaryDirectory() + "tenantsync-bound-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let logger = Logger(label: "test")
            store = try SQLiteStore(path: directory + "/tenantsync.sqlite", sealer: SecretSealer(keyBytes: Array(repeating: 9, count: 32)), logger: logger)
            let now = Date()
            var first: Int64?
            for index in 0..<tenants {
                let tenantID = String(format: "00000000-0000-0000-0000-%012d", index)
                try await store.upsertTenant(id: tenantID, domain: "tenant\(index).example", displayName: nil)
                let account = try await store.createAccount(tenantID: tenantID, service: .exchangeOnline, appID: nil, licensingModel: nil)
                first = first ?? account.id
                let grant = try await store.addGrant(accountID: account.id, name: "ews", resource: "https://outlook.office365.com/.default", flow: .delegated)
                try await store.storeTokenSet(
                    grantID: grant.id,
                    tokens: TokenSet(accessToken: Secret("a\(index)"), refreshToken: Secret("r\(index)"), scopes: ["x"], obtainedAt: now, expiresAt: now + 3_600),
                    nextRefreshAt: now + 3_000
                )
                try await store.setAccountState(id: account.id, state: index % 7 == 3 ? .tokenInvalid : .active, provisioningStep: nil, provisioningError: nil)
                for day in 1...2 {
                    let run = try await store.startSyncRun(tenantID: tenantID, service: nil, trigger: .daily, mode: .delta, at: now - Double(day) * 86_400)
                    try await store.finishSyncRun(runID: run.id, state: .succeeded, error: nil, at: now - Double(day) * 86_400 + 60)
                }
                if index % 5 == 0 {
                    let run = try await store.startSyncRun(tenantID: tenantID, service: nil, trigger: .daily, mode: .delta, at: now - 3_600)
                    try await store.holdSyncRun(runID: run.id, removedUserIDs: ["u\(index)"], removedGroupIDs: [], deltaLinks: [:], at: now - 3_500)
                }
                if index % 3 == 0 {
                    _ = try await store.reportIncident(IncidentReport(
                        grantID: grant.id, accountID: account.id, kind: .tokenRefreshFailing, error: "temporarily_unavailable",
                        aadstsCode: nil, traceID: nil, correlationID: nil, seenAt: now
                    ))
                }
                _ = try await store.enqueueAlert(
                    NewAlert(kind: "account-protected", severity: .info, tenantID: tenantID, accountID: account.id, subject: "s\(index)", body: "b"),
                    channels: ["journal", "smtp"], at: now
                )
            }
            firstAccountID = try #require(first)

            let settings = try SyncSchedulingTests.settings()
            let coordinator = SyncCoordinator()
            let tokens = EmulatorTokenSource(baseURL: URL(string: "http://127.0.0.1:9")!, clientID: "unused", clientSecret: "unused")
            let graph = GraphClient(graphRoot: "http://127.0.0.1:9", http: HTTPClient.shared, logger: logger)
            let synchronizer = DirectorySynchronizer(store: store, graph: graph, tokens: tokens, settings: .init(massDeletionThreshold: 0.2), logger: logger)
            scheduler = SyncScheduler(coordinator: coordinator, synchronizer: synchronizer, store: store, settings: settings, heartbeat: Heartbeat(), logger: logger)
            status = StatusReporter(store: store, scheduler: scheduler, deliveryHealth: { .init() }, notifier: SystemdNotifier(), logger: logger)
            control = DaemonControl(
                store: store, operations: TenantOperations(store: store, graph: graph, tokens: tokens, coordinator: coordinator, logger: logger),
                coordinator: coordinator, scheduler: scheduler,
                reloader: ConfigurationReloader(path: nil, loader: ConfigurationLoader(environment: [:]), settings: settings, notifier: SystemdNotifier(), logger: logger),
                status: status, provisioning: nil, startedAt: Date(), nodeName: "bound-node", cluster: nil
            )
        }

        /// Statements each call executes, after one warm-up call (so a reader connection opened lazily is not counted).
        func costs() async throws -> [String: Int] {
            let context = ControlContext(peer: PeerCredentials(pid: 1, uid: 0, gid: 0), method: "test", logger: Logger(label: "test"))
            let calls: [(String, () async throws -> Void)] = [
                // One read of one query: the unit the other costs are stated in.
                ("one query", { try await store.ping() }),
                ("status", { _ = try await control.status(context: context) }),
                ("status line", { _ = try await status.line() }),
                ("accounts", { _ = try await control.listAccounts(ListAccountsRequest(), context: context) }),
                ("accounts --state token-invalid", { _ = try await control.listAccounts(ListAccountsRequest(state: "token-invalid"), context: context) }),
                ("account", { _ = try await control.account(id: firstAccountID, context: context) }),
                ("alerts", { _ = try await control.listAlerts(ListAlertsRequest(all: true), context: context) }),
                ("scheduler plan", { _ = try await scheduler.plan(now: Date()) }),
                ("metrics scrape", { _ = try await store.metricsState(alertsAfter: 0) }),
            ]
            var costs: [String: Int] = [:]
            for (name, call) in calls {
                try await call()
                let before = store.statements.value
                try await call()
                costs[name] = store.statements.value - before
            }
            return costs
        }

        func cleanUp() {
            try? store.close()
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    @Test func statusAccountsAccountAlertsAndPlanningCostTheSameAt5And200Tenants() async throws {
        let small = try await Fleet(tenants: 5)
        defer { small.cleanUp() }
        let large = try await Fleet(tenants: 200)
        defer { large.cleanUp() }
        let smallCosts = try await small.costs()
        let largeCosts = try await large.costs()
        // A read is the query plus GRDB's transaction statements around it.
        let perQuery = try #require(smallCosts["one query"])
        for (name, cost) in smallCosts.sorted(by: { $0.key < $1.key }) {
            #expect(largeCosts[name] == cost, "\(name): \(cost) statements at 5 tenants, \(largeCosts[name] ?? -1) at 200: a query per tenant crept in")
            // status reads 6 tables' answers; account 8 (its one grant's token included); the rest fewer.
            #expect(cost <= 8 * perQuery, "\(name) costs \(cost) statements, \(Double(cost) / Double(perQuery)) queries")
        }
    }

    @Test func statusListsTheFirstDegradedAccountsAndHeldRunsAndCountsThemAll() async throws {
        let fleet = try await Fleet(tenants: 120)
        defer { fleet.cleanUp() }
        let context = ControlContext(peer: PeerCredentials(pid: 1, uid: 0, gid: 0), method: "test", logger: Logger(label: "test"))
        let status = try await fleet.control.status(context: context)
        // Token-invalid (index % 7 == 3) or an open incident (index % 3 == 0); a held run every fifth tenant.
        let degraded = (0..<120).filter { $0 % 7 == 3 || $0 % 3 == 0 }.count
        #expect(status.degradedTotal == degraded && status.degraded.count == StatusReporter.listedInStatus, "\(status.degraded.count) of \(String(describing: status.degradedTotal))")
        #expect(status.degraded.map(\.id) == status.degraded.map(\.id).sorted(), "the first ones, in id order")
        #expect(status.heldSyncsTotal == 24 && status.heldSyncs?.count == StatusReporter.listedInStatus)
    }

    @Test func theFleetAnswersWhatItHolds() async throws {
        let fleet = try await Fleet(tenants: 20)
        defer { fleet.cleanUp() }
        let context = ControlContext(peer: PeerCredentials(pid: 1, uid: 0, gid: 0), method: "test", logger: Logger(label: "test"))
        let status = try await fleet.control.status(context: context)
        #expect(status.accounts.total == 20 && status.accounts.tokenInvalid == 3 && status.accounts.active == 17)
        #expect(status.heldSyncs?.count == 4 && status.heldSyncsTotal == 4, "every fifth tenant has a held run")
        // Degraded: token-invalid (3, 10, 17) or an open incident (0, 3, 6, 9, 12, 15, 18).
        #expect(Set(status.degraded.map(\.tenantDomain)) == Set([0, 3, 6, 9, 10, 12, 15, 17, 18].map { "tenant\($0).example" }))
        #expect(status.degradedTotal == 9)
        #expect(status.alertDelivery.map(\.channel) == ["journal", "smtp"] && status.alertDelivery.allSatisfy { $0.pending == 20 })
        #expect(status.unacknowledgedAlerts == 20)
        let invalid = try await fleet.control.listAccounts(ListAccountsRequest(state: "token-invalid"), context: context)
        #expect(invalid.accounts.map(\.tenantDomain) == ["tenant3.example", "tenant10.example", "tenant17.example"])
        #expect(invalid.accounts.allSatisfy { $0.lastSyncAt != nil && $0.nextRefreshAt != nil })
        #expect(invalid.accounts.map(\.openIncidents) == [1, 0, 0], "tenant 3 also has a refresh incident")

        // Keyset paging: pages of 7 read every account once, in id order, and the last page has no cursor.
        var ids: [Int64] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await fleet.control.listAccounts(ListAccountsRequest(limit: 7, after: cursor), context: context)
            ids += page.accounts.map(\.id)
            cursor = page.next
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages == 3 && ids.count == 20 && ids == ids.sorted() && Set(ids).count == 20, "\(pages) pages: \(ids)")

        var alertIDs: [Int64] = []
        var alertCursor: String?
        repeat {
            let page = try await fleet.control.listAlerts(ListAlertsRequest(all: true, limit: 6, after: alertCursor), context: context)
            alertIDs += page.alerts.map(\.id)
            alertCursor = page.next
        } while alertCursor != nil && alertIDs.count < 40
        #expect(alertIDs.count == 20 && alertIDs == alertIDs.sorted(by: >), "alerts page newest first: \(alertIDs)")

        // By state, tenant and service, in the store.
        for id in alertIDs.prefix(3) { try await fleet.store.acknowledgeAlert(id: id, at: Date()) }
        let acknowledged = try await fleet.control.listAlerts(ListAlertsRequest(state: "acknowledged"), context: context)
        #expect(acknowledged.alerts.map(\.id) == Array(alertIDs.prefix(3)), "only the acknowledged alerts")
        let open = try await fleet.control.listAlerts(ListAlertsRequest(limit: 1_000), context: context)
        #expect(open.alerts.map(\.id) == Array(alertIDs.dropFirst(3)) && open.next == nil, "unacknowledged by default")
        let any = try await fleet.control.listAlerts(ListAlertsRequest(all: false, state: "any"), context: context)
        #expect(any.alerts.count == 20, "state any overrides all")
        let ofTenant = try await fleet.control.listAlerts(ListAlertsRequest(all: true, tenant: "tenant4.example"), context: context)
        #expect(ofTenant.alerts.map(\.subject) == ["s4"])
        let ofTeams = try await fleet.control.listAlerts(ListAlertsRequest(all: true, service: "teams-chat"), context: context)
        #expect(ofTeams.alerts.isEmpty, "no alert is about a Teams Chat account")
        await #expect(throws: TenantSyncError.self) { try await fleet.control.listAlerts(ListAlertsRequest(state: "read"), context: context) }
    }
}
