import Foundation
import Testing
import TenantSyncCore

/// Each lifecycle step is one transaction, on both stores (moved from TenantSyncStoreTests/Tokens).
@Suite("Token lifecycle transactions")
struct TokenLifecycleStoreTests {
    struct Fixture {
        let conformance: ConformanceStore
        let store: AnyStore
        let account: ServiceAccount
        let graph: Grant
        let ews: Grant

        init(_ conformance: ConformanceStore) async throws {
            self.conformance = conformance
            store = conformance.store
            try await store.upsertTenant(id: "11111111-2222-3333-4444-555555555555", domain: "contoso.example", displayName: nil)
            account = try await store.createAccount(
                tenantID: "11111111-2222-3333-4444-555555555555", service: .exchangeOnline, appID: nil, licensingModel: nil
            )
            graph = try await store.addGrant(accountID: account.id, name: "graph", resource: "https://graph.microsoft.com/.default", flow: .delegated)
            ews = try await store.addGrant(accountID: account.id, name: "ews", resource: "https://outlook.office365.com/.default", flow: .delegated)
            let now = Date()
            for grant in [graph, ews] {
                try await store.storeTokenSet(grantID: grant.id, tokens: Self.tokens("a\(grant.id)", "r\(grant.id)", now), nextRefreshAt: now)
            }
            try await store.setAccountState(id: account.id, state: .active, provisioningStep: nil, provisioningError: nil)
        }

        static func tokens(_ access: String, _ refresh: String, _ at: Date) -> TokenSet {
            TokenSet(accessToken: Secret(access), refreshToken: Secret(refresh), scopes: ["s"], obtainedAt: at, expiresAt: at.addingTimeInterval(3600))
        }

        func report(_ kind: Incident.Kind, grant: Grant? = nil, code: Int = 70008, trace: String = "trace-1") -> IncidentReport {
            IncidentReport(
                grantID: (grant ?? graph).id, accountID: account.id, kind: kind, error: "invalid_grant", aadstsCode: code,
                traceID: trace, correlationID: "corr", seenAt: Date()
            )
        }

        static let alert: @Sendable (Incident) -> NewAlert = { incident in
            NewAlert(kind: "token-invalid", severity: .critical, incidentID: incident.id, subject: "s", body: "b")
        }
    }

    @Test("Invalidating opens one incident and one alert; repeats update the incident only", arguments: StoreKind.allCases)
    func invalidateOnce(kind: StoreKind) async throws {
        try await kind.withStore { conformance in
            let f = try await Fixture(conformance)
            let first = try await f.store.invalidateGrant(
                grantID: f.graph.id, outcome: "permanent: x", report: f.report(.tokenInvalid), alert: Fixture.alert, channels: ["journal", "smtp"]
            )
            #expect(first.isNew)
            let alert = try #require(first.alert)
            #expect(alert.incidentID == first.incident?.id)
            #expect(try await f.store.deliveries(alertID: alert.id).map(\.channel) == ["journal", "smtp"])
            #expect(try await f.store.grant(id: f.graph.id)?.state == .invalid)
            #expect(try await f.store.account(id: f.account.id)?.state == .tokenInvalid)

            let second = try await f.store.invalidateGrant(
                grantID: f.graph.id, outcome: "permanent: x", report: f.report(.tokenInvalid, trace: "trace-2"), alert: Fixture.alert, channels: ["journal"]
            )
            #expect(!second.isNew)
            #expect(second.alert == nil)
            #expect(second.incident?.id == first.incident?.id)
            #expect(second.incident?.occurrences == 2)
            #expect(second.incident?.traceID == "trace-2")
            #expect(try await f.store.alerts(includeAcknowledged: true, limit: 10).count == 1)
            #expect(try await f.store.tokenStatus(grantID: f.graph.id)?.consecutiveFailures == 2)
        }
    }

    @Test("A refresh stores only over the generation it started from and only while the grant is valid", arguments: StoreKind.allCases)
    func compareAndSwap(kind: StoreKind) async throws {
        try await kind.withStore { conformance in
            let f = try await Fixture(conformance)
            let snapshot = try #require(try await f.store.tokenSnapshot(grantID: f.graph.id))
            #expect(snapshot.generation == 1)
            #expect(snapshot.tokens?.refreshToken?.reveal == "r\(f.graph.id)")
            let now = Date()
            #expect(try await f.store.storeRefreshedTokenSet(
                grantID: f.graph.id, tokens: Fixture.tokens("a2", "r2", now), nextRefreshAt: now, expectedGeneration: 1, at: now
            ))
            // A second writer that read generation 1 must not overwrite generation 2.
            #expect(try await !f.store.storeRefreshedTokenSet(
                grantID: f.graph.id, tokens: Fixture.tokens("stale", "stale", now), nextRefreshAt: now, expectedGeneration: 1, at: now
            ))
            let after = try #require(try await f.store.tokenSnapshot(grantID: f.graph.id))
            #expect(after.generation == 2)
            #expect(after.tokens?.refreshToken?.reveal == "r2")

            _ = try await f.store.invalidateGrant(
                grantID: f.graph.id, outcome: "permanent", report: f.report(.tokenInvalid), alert: Fixture.alert, channels: []
            )
            #expect(try await !f.store.storeRefreshedTokenSet(
                grantID: f.graph.id, tokens: Fixture.tokens("a3", "r3", now), nextRefreshAt: now, expectedGeneration: 2, at: now
            ))
        }
    }

    @Test("Transient failures open the refresh-failing incident once; a refresh resolves it", arguments: StoreKind.allCases)
    func refreshFailing(kind: StoreKind) async throws {
        try await kind.withStore { conformance in
            let f = try await Fixture(conformance)
            let now = Date()
            let quiet = try await f.store.recordTransientFailure(
                grantID: f.graph.id, outcome: "transient: HTTP 503", at: now, nextRefreshAt: now.addingTimeInterval(5),
                incident: nil, alert: Fixture.alert, channels: ["journal"]
            )
            #expect(quiet.incident == nil && quiet.alert == nil)
            var alerts = 0
            for attempt in 0..<3 {
                let outcome = try await f.store.recordTransientFailure(
                    grantID: f.graph.id, outcome: "transient: HTTP 503", at: now, nextRefreshAt: now.addingTimeInterval(5),
                    incident: f.report(.tokenRefreshFailing), alert: Fixture.alert, channels: ["journal"]
                )
                #expect(outcome.isNew == (attempt == 0))
                alerts += outcome.alert == nil ? 0 : 1
            }
            #expect(alerts == 1)
            #expect(try await f.store.tokenStatus(grantID: f.graph.id)?.consecutiveFailures == 4)
            #expect(try await f.store.grant(id: f.graph.id)?.state == .valid)

            let snapshot = try #require(try await f.store.tokenSnapshot(grantID: f.graph.id))
            #expect(try await f.store.storeRefreshedTokenSet(
                grantID: f.graph.id, tokens: Fixture.tokens("a2", "r2", now), nextRefreshAt: now, expectedGeneration: snapshot.generation, at: now
            ))
            #expect(try await f.store.openIncidents().isEmpty)
            #expect(try await f.store.tokenStatus(grantID: f.graph.id)?.consecutiveFailures == 0)
        }
    }

    @Test("Renewal replaces tokens, resolves incidents and reactivates the account only when every grant is valid", arguments: StoreKind.allCases)
    func renewal(kind: StoreKind) async throws {
        try await kind.withStore { conformance in
            let f = try await Fixture(conformance)
            for grant in [f.graph, f.ews] {
                _ = try await f.store.invalidateGrant(
                    grantID: grant.id, outcome: "permanent", report: f.report(.tokenInvalid, grant: grant), alert: Fixture.alert, channels: []
                )
            }
            let now = Date()
            let renewed: @Sendable (ServiceAccount, [Incident]) -> NewAlert = { account, resolved in
                NewAlert(kind: "token-renewed", severity: .info, accountID: account.id, subject: "\(resolved.count)", body: account.state.rawValue)
            }
            let first = try await f.store.applyRenewal(
                TokenRenewalRecord(grantID: f.graph.id, tokens: Fixture.tokens("new-a", "new-r", now), nextRefreshAt: now, clientSecret: nil, at: now),
                alert: renewed, channels: ["journal"]
            )
            #expect(first.grant.state == .valid)
            #expect(first.resolvedIncidents.count == 1)
            #expect(first.account.state == .tokenInvalid, "the EWS grant is still invalid")
            #expect(first.alert.kind == "token-renewed")
            #expect(try await f.store.tokenSet(grantID: f.graph.id)?.refreshToken?.reveal == "new-r")

            let second = try await f.store.applyRenewal(
                TokenRenewalRecord(grantID: f.ews.id, tokens: Fixture.tokens("new-a2", "new-r2", now), nextRefreshAt: now, clientSecret: nil, at: now),
                alert: renewed, channels: ["journal"]
            )
            #expect(second.account.state == .active)
            #expect(try await f.store.openIncidents().isEmpty)
            #expect(try await f.store.tokenStatus(grantID: f.ews.id)?.lastRefreshOutcome == "renewed")
        }
    }

    @Test("Renewing a client-credentials grant stores the new app id and secret sealed", arguments: StoreKind.allCases)
    func renewalWithSecret(kind: StoreKind) async throws {
        try await kind.withStore { conformance in
            let f = try await Fixture(conformance)
            let now = Date()
            _ = try await f.store.applyRenewal(
                TokenRenewalRecord(
                    grantID: f.graph.id, tokens: Fixture.tokens("a", "r", now), nextRefreshAt: now,
                    clientSecret: .init(appID: "new-app", secret: Secret("very-secret-value"), expiresAt: now.addingTimeInterval(86_400)), at: now
                ),
                alert: { _, _ in NewAlert(kind: "token-renewed", severity: .info, subject: "s", body: "b") }, channels: []
            )
            #expect(try await f.store.account(id: f.account.id)?.appID == "new-app")
            #expect(try await f.store.clientSecret(accountID: f.account.id)?.reveal == "very-secret-value")
            #expect(try await !f.conformance.holdsInClear("very-secret-value"), "the secret is in the database in clear text")
        }
    }

    @Test("Renewing a grant that does not exist fails clearly", arguments: StoreKind.allCases)
    func renewMissing(kind: StoreKind) async throws {
        try await kind.withStore { conformance in
            let f = try await Fixture(conformance)
            let now = Date()
            await #expect(throws: TenantSyncError.self) {
                try await f.store.applyRenewal(
                    TokenRenewalRecord(grantID: 9_999, tokens: Fixture.tokens("a", "r", now), nextRefreshAt: now, clientSecret: nil, at: now),
                    alert: { _, _ in NewAlert(kind: "k", severity: .info, subject: "s", body: "b") }, channels: []
                )
            }
        }
    }
}
