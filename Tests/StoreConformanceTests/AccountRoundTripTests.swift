import Foundation
import TenantSyncCore
import Testing

/// Tenants, accounts, grants, token sets and incidents: the same round trips on both stores
/// (moved from TenantSyncStoreTests/RoundTripTests.swift).
@Suite("Store round trips: accounts, tokens, incidents")
struct AccountRoundTripTests {
    @Test(arguments: StoreKind.allCases) func tenantsByIdAndDomainAndScope(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let id = "6F1E2C3A-0000-4000-8000-000000000001"
            let created = try await fixture.store.upsertTenant(id: id, domain: "Contoso.com", displayName: "Contoso")
            #expect(created.id == id.lowercased())
            #expect(created.syncScope == .all)
            #expect(try await fixture.store.tenant(idOrDomain: "contoso.COM") == created)
            #expect(try await fixture.store.tenant(idOrDomain: id) == created)
            try await fixture.store.setSyncScope(tenantID: created.id, scope: .selected)
            let renamed = try await fixture.store.upsertTenant(id: id, domain: "contoso.com", displayName: "Contoso Ltd")
            #expect(renamed.syncScope == .selected, "an upsert must keep the scope")
            #expect(renamed.displayName == "Contoso Ltd")
            #expect(try await fixture.store.tenants().count == 1)
            await #expect(throws: TenantSyncError.self) { try await fixture.store.setSyncScope(tenantID: "missing", scope: .all) }
        }
    }

    @Test(arguments: StoreKind.allCases) func accountsAreUniquePerTenantAndService(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let (tenant, account, _, _) = try await fixture.seedExchangeAccount()
            #expect(account.state == .provisioning)
            let error = await #expect(throws: TenantSyncError.self) {
                try await fixture.store.createAccount(tenantID: tenant.id, service: .exchangeOnline, appID: nil, licensingModel: nil)
            }
            #expect(error?.code == .accountExists)
            try await fixture.store.setAccountState(id: account.id, state: .provisioning, provisioningStep: "graph-consent", provisioningError: "declined")
            try await fixture.store.setAccountDetails(id: account.id, detailsJSON: #"{"scope":"all"}"#)
            let read = try #require(try await fixture.store.account(tenantID: tenant.id, service: .exchangeOnline))
            #expect(read.provisioningStep == "graph-consent")
            #expect(read.provisioningError == "declined")
            #expect(read.detailsJSON == #"{"scope":"all"}"#)
            #expect(try await fixture.store.account(id: account.id) == read)
            #expect(try await fixture.store.accounts() == [read])
        }
    }

    @Test(arguments: StoreKind.allCases) func inlineMailFlowPolicyAndDirectionRoundTrip(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let (tenant, _, _, _) = try await fixture.seedExchangeAccount()
            let inline = try await fixture.store.createAccount(tenantID: tenant.id, service: .exchangeOnlineInline, appID: nil, licensingModel: nil)
            #expect(inline.inlinePolicy == nil && inline.inlineDirection == nil)
            try await fixture.store.setInlineMailFlow(accountID: inline.id, policy: "Strict", direction: .inbound)
            var read = try #require(try await fixture.store.account(id: inline.id))
            #expect(read.inlinePolicy == "Strict" && read.inlineDirection == .inbound)
            try await fixture.store.setInlineMailFlow(accountID: inline.id, policy: "Strict", direction: .both)
            read = try #require(try await fixture.store.account(id: inline.id))
            #expect(read.inlineDirection == .both)
            await #expect(throws: TenantSyncError.self) { try await fixture.store.setInlineMailFlow(accountID: 9_999, policy: "x", direction: .both) }
        }
    }

    @Test(arguments: StoreKind.allCases) func grantsAndTokenSetsRoundTrip(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let (_, _, ews, graph) = try await fixture.seedExchangeAccount()
            #expect(try await fixture.store.grants(accountID: ews.accountID).map(\.name) == ["ews", "graph"])
            let obtained = Date(timeIntervalSince1970: 1_800_000_000.123)
            let tokens = TokenSet(
                accessToken: Secret("access-1"), refreshToken: Secret("refresh-1"), scopes: ["https://graph.microsoft.com/.default", "offline_access"],
                obtainedAt: obtained, expiresAt: obtained + 3_600, refreshInAt: obtained + 1_800
            )
            try await fixture.store.storeTokenSet(grantID: graph.id, tokens: tokens, nextRefreshAt: obtained + 3_000)
            #expect(try await fixture.store.tokenSet(grantID: graph.id) == tokens)
            #expect(try await fixture.store.grant(id: graph.id)?.state == .valid)
            let status = try #require(try await fixture.store.tokenStatus(grantID: graph.id))
            #expect(status.generation == 1)
            #expect(status.nextRefreshAt == obtained + 3_000)
            #expect(try await fixture.store.grantsDue(before: obtained + 2_999, limit: 10).isEmpty)
            #expect(try await fixture.store.grantsDue(before: obtained + 3_000, limit: 10).map(\.id) == [graph.id])

            try await fixture.recordRefreshFailure(grantID: graph.id, outcome: "transient: HTTP 503", at: obtained + 3_000, nextRefreshAt: obtained + 3_060)
            let failed = try #require(try await fixture.store.tokenStatus(grantID: graph.id))
            #expect(failed.consecutiveFailures == 1)
            #expect(failed.lastRefreshOutcome == "transient: HTTP 503")

            let rotated = TokenSet(accessToken: Secret("access-2"), refreshToken: Secret("refresh-2"), scopes: tokens.scopes, obtainedAt: obtained + 3_060, expiresAt: obtained + 7_000)
            try await fixture.store.storeTokenSet(grantID: graph.id, tokens: rotated, nextRefreshAt: obtained + 6_000)
            #expect(try await fixture.store.tokenSet(grantID: graph.id) == rotated)
            let after = try #require(try await fixture.store.tokenStatus(grantID: graph.id))
            #expect(after.generation == 2)
            #expect(after.consecutiveFailures == 0)

            try await fixture.setGrantState(id: graph.id, state: .invalid)
            #expect(try await fixture.store.grantsDue(before: obtained + 9_000, limit: 10).isEmpty, "invalid grants are never due")
        }
    }

    @Test(arguments: StoreKind.allCases) func sealedTokenCopiedToAnotherGrantDoesNotOpen(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let (_, _, ews, graph) = try await fixture.seedExchangeAccount()
            let now = Date()
            try await fixture.store.storeTokenSet(grantID: ews.id, tokens: TokenSet(accessToken: Secret("a"), refreshToken: nil, scopes: [], obtainedAt: now, expiresAt: now), nextRefreshAt: now)
            try await fixture.store.storeTokenSet(grantID: graph.id, tokens: TokenSet(accessToken: Secret("b"), refreshToken: nil, scopes: [], obtainedAt: now, expiresAt: now), nextRefreshAt: now)
            try await fixture.sql("""
                UPDATE token_sets SET access_token_sealed = (SELECT access_token_sealed FROM token_sets WHERE grant_id = \(ews.id))
                WHERE grant_id = \(graph.id)
                """)
            let error = await #expect(throws: TenantSyncError.self) { try await fixture.store.tokenSet(grantID: graph.id) }
            #expect(error?.code == .secretCorrupted)
        }
    }

    @Test(arguments: StoreKind.allCases) func clientSecretsRoundTripAndAccountDeletionWipesTokens(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let tenant = try await fixture.store.upsertTenant(id: UUID().uuidString, domain: "fabrikam.com", displayName: nil)
            let account = try await fixture.store.createAccount(tenantID: tenant.id, service: .teamsChat, appID: nil, licensingModel: .b)
            #expect(account.licensingModel == .b)
            let expiry = Date(timeIntervalSince1970: 1_900_000_000)
            try await fixture.store.setClientSecret(accountID: account.id, appID: "11111111-2222-3333-4444-555555555555", secret: Secret("s3cr3t"), expiresAt: expiry)
            #expect(try await fixture.store.clientSecret(accountID: account.id) == Secret("s3cr3t"))
            let read = try #require(try await fixture.store.account(id: account.id))
            #expect(read.appID == "11111111-2222-3333-4444-555555555555")
            #expect(read.clientSecretExpiresAt == expiry)

            let grant = try await fixture.store.addGrant(accountID: account.id, name: "app", resource: "https://graph.microsoft.com/.default", flow: .clientCredentials)
            try await fixture.store.storeTokenSet(grantID: grant.id, tokens: TokenSet(accessToken: Secret("t"), refreshToken: nil, scopes: [], obtainedAt: .now, expiresAt: .now), nextRefreshAt: .now)
            try await fixture.store.deleteAccount(id: account.id)
            #expect(try await fixture.store.account(id: account.id) == nil)
            #expect(try await fixture.store.tokenSet(grantID: grant.id) == nil)
            #expect(try await fixture.sql("SELECT count(*) FROM token_sets") == ["0"])
            let error = await #expect(throws: TenantSyncError.self) { try await fixture.store.deleteAccount(id: account.id) }
            #expect(error?.code == .accountNotFound)
        }
    }

    @Test(arguments: StoreKind.allCases) func incidentsOpenOnceAndResolve(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let (_, account, ews, _) = try await fixture.seedExchangeAccount()
            let seen = Date(timeIntervalSince1970: 1_800_000_000)
            let report = IncidentReport(grantID: ews.id, accountID: account.id, kind: .tokenInvalid, error: "invalid_grant", aadstsCode: 70008, traceID: "t1", correlationID: "c1", seenAt: seen)
            let first = try await fixture.store.reportIncident(report)
            #expect(first.isNew)
            var again = report
            again.seenAt = seen + 60
            again.traceID = "t2"
            let second = try await fixture.store.reportIncident(again)
            #expect(!second.isNew, "a repeated failure must not open a second incident")
            #expect(second.incident.id == first.incident.id)
            #expect(second.incident.occurrences == 2)
            #expect(second.incident.lastSeenAt == seen + 60)
            #expect(second.incident.firstSeenAt == seen)
            #expect(second.incident.traceID == "t2")
            #expect(try await fixture.store.openIncidents().map(\.id) == [first.incident.id])
            try await fixture.resolveIncidents(grantID: ews.id, at: seen + 120)
            #expect(try await fixture.store.openIncidents().isEmpty)
            #expect(try await fixture.incidents(grantID: ews.id).first?.resolvedAt == seen + 120)
            #expect(try await fixture.store.reportIncident(report).isNew, "after renewal a new failure is a new incident")
        }
    }
}
