import Foundation
import TenantSyncCore
import TenantSyncStore
import Testing

/// The metrics endpoint's one read (`SQLiteStore.metricsState`) on a real SQLite fleet; its cost stays
/// the same at 5 and 200 tenants in `ControlQueryBoundTests` ("metrics scrape").
@Suite("Metrics state from the store", .serialized)
struct MetricsStateStoreTests {
    @Test("one read answers every grant, account, tenant, channel and the alerts stored since the last read")
    func theFleetsStateInOneRead() async throws {
        let fleet = try await ControlQueryBoundTests.Fleet(tenants: 20)
        defer { fleet.cleanUp() }
        let state = try await fleet.store.metricsState(alertsAfter: 0)
        #expect(state.grants.count == 20 && state.grants.allSatisfy { $0.grant == "ews" && $0.service == .exchangeOnline && $0.expiresAt != nil })
        #expect(Set(state.grants.map(\.tenant)) == Set((0..<20).map { "tenant\($0).example" }))
        #expect(state.accounts.count == 20)
        #expect(Set(state.accounts.filter { $0.state == .tokenInvalid }.map(\.tenant)) == ["tenant3.example", "tenant10.example", "tenant17.example"])
        #expect(state.tenants.count == 20 && state.tenants.allSatisfy { $0.lastSuccessAt != nil && $0.lastAttemptAt != nil && $0.scheduled })
        // Every fifth tenant has a held run, whose start is its newest attempt (an hour ago, after yesterday's success).
        #expect(Set(state.tenants.filter(\.held).map(\.tenant)) == Set([0, 5, 10, 15].map { "tenant\($0).example" }))
        let held = try #require(state.tenants.first { $0.tenant == "tenant5.example" })
        let attempt = try #require(held.lastAttemptAt), success = try #require(held.lastSuccessAt)
        #expect(attempt > Date() - 3_700 && success < Date() - 86_000, "attempt \(attempt), success \(success)")
        #expect(state.incidentsOpen == 7)
        #expect(state.outbox.map(\.channel).sorted() == ["journal", "smtp"] && state.outbox.allSatisfy { $0.pending == 20 && $0.oldestPendingAt != nil })
        #expect(state.newAlerts == [MetricsState.AlertCount(kind: "account-protected", severity: "info", count: 20)])
        let again = try await fleet.store.metricsState(alertsAfter: state.newestAlertID)
        #expect(again.newAlerts.isEmpty && again.newestAlertID == state.newestAlertID, "alerts counted once: \(again.newAlerts)")
    }
}
