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

    /// The metrics endpoint keeps each tenant's series as text and, given the counts it holds, gets back the rows of the
    /// tenants whose count moved. Every write that changes a tenant's series must move its count, and no other's.
    @Test(arguments: StoreKind.allCases) func eachTenantsCountMovesWithEveryChangeItsSeriesShowAndAReadReturnsOnlyThoseTenants(
        kind: StoreKind
    ) async throws {
        try await kind.withStore { fixture in
            let store = fixture.store
            let at = Date(timeIntervalSince1970: 1_800_000_000)
            // Five tenants: one changed is under a quarter of the fleet, so the read filters (past it, it reads all).
            // A domain in mixed case: the stores match changed tenants as their domain index holds them (case-folded).
            let (tenant, account, ews, graph) = try await fixture.seedExchangeAccount(domain: "A.Example")
            for name in ["b", "c", "d", "e"] { _ = try await fixture.seedExchangeAccount(domain: "\(name).example") }

            let first = try await store.metricsState(alertsAfter: 0, knownVersions: [:])
            let firstVersions = try #require(first.versions)
            #expect(Set(firstVersions.map(\.tenant)) == ["A.Example", "b.example", "c.example", "d.example", "e.example"])
            #expect(first.tenants.count == 5 && first.accounts.count == 5 && first.grants.count == 10, "a first read has every row")
            var known = Dictionary(uniqueKeysWithValues: firstVersions.map { ($0.tenant, $0.version) })
            let quiet = try await store.metricsState(alertsAfter: 0, knownVersions: known)
            #expect(quiet.tenants.isEmpty && quiet.accounts.isEmpty && quiet.grants.isEmpty, "nothing changed, nothing read: \(quiet)")

            /// Reads with the counts known so far; expects exactly A.Example's rows (or none), then takes in the counts.
            func expectRead(_ change: String, changed: Bool, sourceLocation: SourceLocation = #_sourceLocation) async throws {
                let state = try await store.metricsState(alertsAfter: 0, knownVersions: known)
                let versions = try #require(state.versions, sourceLocation: sourceLocation)
                let tenants = Set(state.tenants.map(\.tenant)).union(state.accounts.map(\.tenant)).union(state.grants.map(\.tenant))
                #expect(tenants == (changed ? ["A.Example"] : []), "after \(change): \(tenants)", sourceLocation: sourceLocation)
                if changed {
                    #expect(state.accounts.count == 1 && state.grants.count == 2 && state.tenants.count == 1, "A.Example whole after \(change)", sourceLocation: sourceLocation)
                }
                known = Dictionary(uniqueKeysWithValues: versions.map { ($0.tenant, $0.version) })
            }

            try await store.setAccountState(id: account.id, state: .active, provisioningStep: nil, provisioningError: nil)
            try await expectRead("an account state", changed: true)
            let tokens = TokenSet(accessToken: Secret("a"), refreshToken: Secret("r"), scopes: [], obtainedAt: at, expiresAt: at + 3_600)
            try await store.storeTokenSet(grantID: ews.id, tokens: tokens, nextRefreshAt: at + 3_000)
            try await expectRead("a token stored", changed: true)
            // The refresher's two writes touch the token row alone (the grant stays valid).
            let refreshed = TokenSet(accessToken: Secret("a2"), refreshToken: Secret("r2"), scopes: [], obtainedAt: at + 3_000, expiresAt: at + 6_600)
            #expect(try await store.storeRefreshedTokenSet(grantID: ews.id, tokens: refreshed, nextRefreshAt: at + 6_000, expectedGeneration: 1, at: at + 3_000))
            try await expectRead("a token refreshed", changed: true)
            try await fixture.recordRefreshFailure(grantID: ews.id, outcome: "transient: 503", at: at + 6_000, nextRefreshAt: at + 6_060)
            try await expectRead("a refresh failed (its next attempt moved)", changed: true)
            try await fixture.setGrantState(id: graph.id, state: .invalid)
            try await expectRead("a grant state", changed: true)
            let run = try await store.startSyncRun(tenantID: tenant.id, service: nil, trigger: .daily, mode: .full, at: at)
            try await expectRead("a run started", changed: true)
            var batch = DirectoryBatch()
            batch.upsertedUsers = [DirectoryUser(id: "u1", userPrincipalName: "u1@a.example", displayName: nil, mail: nil, accountEnabled: true)]
            _ = try await store.applyDirectoryBatch(tenantID: tenant.id, batch: batch, at: at)
            try await expectRead("a user added", changed: true)
            try await store.recordSyncProgress(runID: run.id, pages: 1, counts: DirectoryChangeCounts())
            try await expectRead("a run's progress (no series shows it)", changed: false)
            batch.upsertedUsers[0].displayName = "U1"
            _ = try await store.applyDirectoryBatch(tenantID: tenant.id, batch: batch, at: at)
            try await expectRead("a user changed (the count stays)", changed: false)
            try await store.finishSyncRun(runID: run.id, state: .succeeded, error: nil, at: at + 30)
            try await expectRead("a run finished", changed: true)
            var removal = DirectoryBatch()
            removal.removedUserIDs = ["u1"]
            _ = try await store.applyDirectoryBatch(tenantID: tenant.id, batch: removal, at: at + 60)
            try await expectRead("a user removed", changed: true)
            try await store.setSyncScope(tenantID: tenant.id, scope: .selected)
            try await expectRead("the sync scope", changed: true)
            try await store.deleteAccount(id: account.id)
            let gone = try await store.metricsState(alertsAfter: 0, knownVersions: known)
            #expect(gone.tenants.map(\.tenant) == ["A.Example"] && gone.accounts.isEmpty && gone.grants.isEmpty, "an account removed: \(gone)")
        }
    }
}
