import Foundation
import Logging
import M365Emulator
import MicrosoftCloud
import TenantSyncCore
import Testing
import TestSupport
@testable import TenantSyncDaemon

/// Continuous access evaluation against the emulator: cp1 declared, claims challenges answered, refusals made incidents.
@Suite("Continuous access evaluation against the emulator", .serialized)
struct ContinuousAccessEvaluationTests {
    @Test("Every token request declares the cp1 client capability")
    func declaresCP1() async throws {
        try await TokenFixture.run { f in
            let (_, grant) = try await f.delegatedGrant()
            #expect(await f.refresher().refreshIfDue(grantID: grant.id, onDemand: false))
            _ = try await f.client.clientCredentials(tenant: f.tenant.id, client: f.productApp, scope: f.graphResource)
            let counters = try f.emulator.counters(tenant: f.tenant.id)
            #expect(counters["token"] == 3)
            #expect(counters["token.cp1"] == 3, "a token request did not declare cp1: \(counters)")
        }
    }

    @Test("A delegated token refused with a claims challenge is replaced by a token requested with the claims, and the call succeeds")
    func delegatedChallengeAnswered() async throws {
        try await TokenFixture.run { f in
            let (_, grant) = try await f.delegatedGrant()
            let refresher = f.refresher()
            let graph = GraphClient(graphRoot: f.base, http: f.http, logger: f.logs.logger("graph"))
            let stale = try await refresher.accessToken(grantID: grant.id)
            // A policy or location change: the sessions are re-evaluated, the refresh token stays good.
            try f.emulator.revokeSessions(tenant: f.tenant.id, refreshTokens: false)
            let refused = await #expect(throws: GraphError.self) {
                _ = try await graph.get(graph.url("/organization"), accessToken: stale, eventualConsistency: false)
            }
            #expect(refused?.status == 401 && refused?.claimsChallenge?.claims.contains("nbf") == true, "\(String(describing: refused))")

            let tokens = StoredGraphTokenSource(refresher: refresher, storage: f.store, graphScope: f.graphResource)
            let lease = GraphTokenLease(tenantID: f.tenant.id, source: tokens)
            _ = try await lease.call { try await graph.get(graph.url("/organization"), accessToken: $0, eventualConsistency: false) }
            let counters = try f.emulator.counters(tenant: f.tenant.id)
            #expect(counters["token.claims_challenge"] == 1, "the token request did not carry the challenge's claims: \(counters)")
            #expect(try await f.store.grant(id: grant.id)?.state == .valid)
            #expect(try await f.store.openIncidents().isEmpty)
            #expect(f.logs.text.contains("claims challenge"))
        }
    }

    @Test("A directory sync whose token is challenged answers the claims once and completes")
    func syncAnswersTheChallenge() async throws {
        try await TokenFixture.run { f in
            let (_, grant) = try await f.delegatedGrant()
            let refresher = f.refresher()
            _ = try await refresher.accessToken(grantID: grant.id)
            try f.emulator.revokeSessions(tenant: f.tenant.id, refreshTokens: false)
            let synchronizer = DirectorySynchronizer(
                store: f.store, graph: GraphClient(graphRoot: f.base, http: f.http, logger: f.logs.logger("graph")),
                tokens: StoredGraphTokenSource(refresher: refresher, storage: f.store, graphScope: f.graphResource),
                settings: .init(massDeletionThreshold: 0.2), logger: f.logs.logger("sync")
            )
            let run = try await synchronizer.run(tenantID: f.tenant.id, service: nil, trigger: .manual)
            #expect(run.state == .succeeded, "\(run.error ?? "")")
            let active = try f.emulator.users(tenant: f.tenant.id, limit: 100).filter { $0.state == .active }.count
            #expect(try await f.store.directoryUsers(tenantID: f.tenant.id).count == active)
            #expect(try f.emulator.counters(tenant: f.tenant.id)["token.claims_challenge"] == 1)
        }
    }

    @Test("An app-only token refused with a claims challenge: client credentials plus the claims, then the Exchange call succeeds")
    func appOnlyExchangeChallengeAnswered() async throws {
        try await TokenFixture.run { f in
            let outlookScope = f.base + "/outlook/.default"
            let account = try await f.store.createAccount(tenantID: f.tenant.id, service: .exchangeOnlineInline, appID: nil, licensingModel: nil)
            let grant = try await f.store.addGrant(accountID: account.id, name: "mail-flow", resource: outlookScope, flow: .clientCredentials)
            let first = try await f.client.clientCredentials(tenant: f.tenant.id, client: f.productApp, scope: outlookScope)
            try await f.store.storeTokenSet(grantID: grant.id, tokens: first, nextRefreshAt: f.wall.now.addingTimeInterval(3000))
            try await f.store.setAccountState(id: account.id, state: .active, provisioningStep: nil, provisioningError: nil)
            try f.emulator.assignRole(tenant: f.tenant.id, appId: EmulatorDefaults.clientID)
            let exchange = ExchangeAdminClient(outlookRoot: f.base + "/outlook", http: f.http, logger: f.logs.logger("exchange"))
            let refresher = f.refresher()
            try f.emulator.revokeSessions(tenant: f.tenant.id, appId: EmulatorDefaults.clientID, refreshTokens: false)
            let refused = await #expect(throws: ExchangeAdminError.self) {
                _ = try await exchange.invoke(tenantID: f.tenant.id, cmdlet: "Get-InboundConnector", accessToken: first.accessToken)
            }
            #expect(refused?.status == 401 && refused?.claimsChallenge != nil, "\(String(describing: refused))")

            let connectors = try await refresher.withAccessToken(grantID: grant.id) {
                try await exchange.invoke(tenantID: f.tenant.id, cmdlet: "Get-InboundConnector", accessToken: $0)
            }
            #expect(connectors.isEmpty)
            let counters = try f.emulator.counters(tenant: f.tenant.id)
            #expect(counters["token.claims_challenge"] == 1, "\(counters)")
            #expect(counters["token.client_credentials"] == 2)
            #expect(try await f.store.grant(id: grant.id)?.state == .valid)
        }
    }

    @Test("Microsoft refuses the claims request (the user's sessions were revoked): the grant is invalid, with an incident naming AADSTS50173")
    func refusedClaimsRequestIsAnIncident() async throws {
        try await TokenFixture.run { f in
            let (account, grant) = try await f.delegatedGrant()
            let refresher = f.refresher()
            let graph = GraphClient(graphRoot: f.base, http: f.http, logger: f.logs.logger("graph"))
            // Every session of the tenant, refresh tokens included (as Graph's revokeSignInSessions does for a user).
            try f.emulator.revokeSessions(tenant: f.tenant.id)
            let error = await #expect(throws: TenantSyncError.self) {
                try await refresher.withAccessToken(grantID: grant.id) {
                    try await graph.get(graph.url("/organization"), accessToken: $0, eventualConsistency: false)
                }
            }
            #expect(error?.code == .grantInvalid, "\(String(describing: error))")
            #expect(try await f.store.grant(id: grant.id)?.state == .invalid)
            #expect(try await f.store.account(id: account.id)?.state == .tokenInvalid)
            let incident = try #require(try await f.store.openIncidents().first)
            #expect(incident.kind == .tokenInvalid && incident.aadstsCode == 50173)
            #expect(try await f.alerts(kind: "token-invalid").count == 1)
            #expect(try f.emulator.counters(tenant: f.tenant.id)["token.claims_challenge"] == 1)
        }
    }
}
