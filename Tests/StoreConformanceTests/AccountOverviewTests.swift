import Foundation
import TenantSyncCore
import Testing

/// The control path's set-based reads (`accounts`, `status`) agree on both stores.
@Suite("Account overviews and state counts")
struct AccountOverviewTests {
    @Test(arguments: StoreKind.allCases)
    func overviewsCarryTenantLastRunNextRefreshAndOpenIncidents(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let store = fixture.store
            let (contoso, exchange, ews, graph) = try await fixture.seedExchangeAccount(domain: "contoso.com")
            let fabrikam = try await store.upsertTenant(id: UUID().uuidString, domain: "fabrikam.com", displayName: nil)
            let teams = try await store.createAccount(tenantID: fabrikam.id, service: .teamsChat, appID: "app", licensingModel: .a)
            let onedrive = try await store.createAccount(tenantID: fabrikam.id, service: .onedrive, appID: nil, licensingModel: nil)
            let base = Date(timeIntervalSince1970: 1_800_000_000.25)
            for (grant, offset) in [(ews, 600.0), (graph, 300.0)] {
                try await store.storeTokenSet(
                    grantID: grant.id, tokens: TokenSet(accessToken: Secret("a"), refreshToken: nil, scopes: [], obtainedAt: base, expiresAt: base + 3600),
                    nextRefreshAt: base + offset
                )
            }
            try await store.setAccountState(id: exchange.id, state: .active, provisioningStep: nil, provisioningError: nil)
            try await store.setAccountState(id: onedrive.id, state: .active, provisioningStep: nil, provisioningError: nil)
            _ = try await store.invalidateGrant(
                grantID: graph.id, outcome: "permanent", report: IncidentReport(
                    grantID: graph.id, accountID: exchange.id, kind: .tokenInvalid, error: "invalid_grant", aadstsCode: 70008,
                    traceID: nil, correlationID: nil, seenAt: base
                ),
                alert: { _ in NewAlert(kind: "token-invalid", severity: .critical, subject: "s", body: "b") }, channels: []
            )
            // The newest run of a tenant, written as the sync engine would leave it.
            try await fixture.sql("""
                INSERT INTO sync_runs (tenant_id, service, trigger, mode, state, started_at) VALUES
                ('\(fabrikam.id)', NULL, 'daily', 'full', 'failed', '2026-11-21T02:13:00.000Z'),
                ('\(fabrikam.id)', NULL, 'manual', 'delta', 'succeeded', '2026-11-22T02:13:00.000Z')
                """)

            let all = try await store.accountOverviews(AccountQuery())
            #expect(all.map(\.account.id) == [exchange.id, teams.id, onedrive.id])
            let first = try #require(all.first)
            #expect(first.tenant == contoso)
            #expect(first.account.state == .tokenInvalid)
            #expect(first.nextRefreshAt == base + 600, "the soonest refresh of the account's valid grants")
            #expect(first.openIncidentKinds == [.tokenInvalid])
            #expect(first.lastRun == nil)
            #expect(first.tenantIsScheduled, "scope all, an Exchange account past provisioning")
            #expect(all[1].lastRun?.trigger == .manual && all[1].lastRun?.mode == .delta, "the tenant's newest run")
            #expect(all[1].nextRefreshAt == nil)
            #expect(all[2].tenantIsScheduled, "OneDrive syncs the directory and is active")

            #expect(try await store.accountOverviews(AccountQuery(needsAttention: true)).map(\.account.id) == [exchange.id])
            #expect(try await store.accountsNeedingAttentionCount() == 1)
            // The other kind: an active account whose refreshes fail (an open incident, no invalid token). Both are
            // counted, each once (the token-invalid one also has an open incident).
            let onedriveGraph = try await store.addGrant(accountID: onedrive.id, name: "graph", resource: "https://graph.microsoft.com/.default", flow: .delegated)
            _ = try await store.reportIncident(IncidentReport(
                grantID: onedriveGraph.id, accountID: onedrive.id, kind: .tokenRefreshFailing, error: "temporarily_unavailable",
                aadstsCode: nil, traceID: nil, correlationID: nil, seenAt: base
            ))
            #expect(try await store.accountOverviews(AccountQuery(needsAttention: true)).map(\.account.id) == [exchange.id, onedrive.id])
            #expect(try await store.accountsNeedingAttentionCount() == 2)
            #expect(try await store.accountOverviews(AccountQuery(tenantID: fabrikam.id)).map(\.account.id) == [teams.id, onedrive.id])
            #expect(try await store.accountOverviews(AccountQuery(service: .teamsChat)).map(\.account.id) == [teams.id])
            #expect(try await store.accountOverviews(AccountQuery(state: .active)).map(\.account.id) == [onedrive.id])
            #expect(try await store.accountOverviews(AccountQuery(afterID: exchange.id, limit: 1)).map(\.account.id) == [teams.id])

            let counts = try await store.accountStateCounts()
            #expect(counts.byState == [.tokenInvalid: 1, .provisioning: 1, .active: 1])
        }
    }
}
