import Foundation
import TenantSyncCore
import Testing

/// The metrics endpoint's read, alike on both stores (the SQLite fleet version is in
/// TenantSyncDaemonTests/MetricsStateStoreTests.swift).
@Suite("Metrics state")
struct MetricsStateConformanceTests {
    @Test(arguments: StoreKind.allCases) func oneReadAnswersGrantsAccountsTenantsOutboxAndNewAlerts(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let store = fixture.store
            let at = Date(timeIntervalSince1970: 1_800_000_000)
            let (tenant, account, _, _) = try await fixture.seedExchangeAccount(domain: "a.example")
            try await store.setAccountState(id: account.id, state: .active, provisioningStep: nil, provisioningError: nil)
            _ = try await fixture.seedExchangeAccount(domain: "b.example")
            var batch = DirectoryBatch()
            batch.upsertedUsers = [DirectoryUser(id: "u1", userPrincipalName: "u1@a.example", displayName: nil, mail: nil, accountEnabled: true)]
            try await store.applyDirectoryBatch(tenantID: tenant.id, batch: batch, at: at)
            let ok = try await store.startSyncRun(tenantID: tenant.id, service: nil, trigger: .daily, mode: .full, at: at)
            try await store.finishSyncRun(runID: ok.id, state: .succeeded, error: nil, at: at + 30)
            let held = try await store.startSyncRun(tenantID: tenant.id, service: nil, trigger: .daily, mode: .delta, at: at + 3_600)
            try await store.holdSyncRun(runID: held.id, removedUserIDs: ["u1"], removedGroupIDs: [], deltaLinks: [:], at: at + 3_700)
            _ = try await store.enqueueAlert(NewAlert(kind: "k1", severity: .info, subject: "s", body: "b"), channels: ["journal", "smtp"], at: at)
            _ = try await store.enqueueAlert(NewAlert(kind: "k1", severity: .info, subject: "s", body: "b"), channels: ["smtp"], at: at + 1)
            let last = try await store.enqueueAlert(NewAlert(kind: "k2", severity: .critical, subject: "s", body: "b"), channels: [], at: at + 2)

            let state = try await store.metricsState(alertsAfter: 0)
            #expect(state.grants.count == 4 && Set(state.grants.map(\.tenant)) == ["a.example", "b.example"] && state.grants.allSatisfy { $0.state == .pending })
            #expect(state.accounts.map(\.state).sorted { $0.rawValue < $1.rawValue } == [.active, .provisioning])
            let a = try #require(state.tenants.first { $0.tenant == "a.example" })
            #expect(a.lastAttemptAt == at + 3_600 && a.lastSuccessAt == at + 30 && a.directoryUsers == 1 && a.held && a.scheduled, "\(a)")
            let b = try #require(state.tenants.first { $0.tenant == "b.example" })
            #expect(b.lastAttemptAt == nil && b.lastSuccessAt == nil && b.directoryUsers == 0 && !b.held && !b.scheduled, "\(b)")
            #expect(state.outbox.sorted { $0.channel < $1.channel } == [
                MetricsState.OutboxChannel(channel: "journal", pending: 1, oldestPendingAt: at),
                MetricsState.OutboxChannel(channel: "smtp", pending: 2, oldestPendingAt: at),
            ])
            #expect(state.incidentsOpen == 0)
            #expect(state.newAlerts.sorted { $0.kind < $1.kind } == [
                MetricsState.AlertCount(kind: "k1", severity: "info", count: 2), MetricsState.AlertCount(kind: "k2", severity: "critical", count: 1),
            ])
            #expect(state.newestAlertID == last.id)
            let again = try await store.metricsState(alertsAfter: state.newestAlertID)
            #expect(again.newAlerts.isEmpty && again.newestAlertID == last.id, "alerts counted once: \(again.newAlerts)")
        }
    }
}
