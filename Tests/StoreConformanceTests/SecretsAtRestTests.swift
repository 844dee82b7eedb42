import Foundation
import TenantSyncCore
import Testing

/// No token, client secret or private key is stored in clear by either store: the raw rows (and SQLite's files,
/// PostgreSQL's write-ahead log) are searched for the known values.
@Suite("Secrets at rest in both stores")
struct SecretsAtRestTests {
    static let accessToken = "EwBwA8l6BAAUAOyDv0l6PcCVu89kmzvqZmkWABkAAQ-conformance-access"
    static let refreshToken = "M.R3_BAY.-conformance-refresh-CfxPOdUw9yLx"
    static let clientSecret = "Qx8Q~conformance-client-secret~WmA1"
    static let privateKey = "-----BEGIN PRIVATE KEY-----conformance-key-MIGHAgEAMBMG-----END PRIVATE KEY-----"

    @Test(arguments: StoreKind.allCases)
    func tokensSecretsAndKeysAreSealed(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            // Values of their own per run: the PostgreSQL server's log is shared by every test of the process.
            let run = UUID().uuidString
            let (access, refresh, secret, key) = (Self.accessToken + run, Self.refreshToken + run, Self.clientSecret + run, Self.privateKey + run)
            let (tenant, _, ews, graph) = try await fixture.seedExchangeAccount()
            let now = Date()
            try await fixture.store.storeTokenSet(
                grantID: ews.id, tokens: TokenSet(accessToken: Secret(access), refreshToken: Secret(refresh), scopes: ["x"], obtainedAt: now, expiresAt: now + 3600),
                nextRefreshAt: now + 3000
            )
            let snapshot = try #require(try await fixture.store.tokenSnapshot(grantID: ews.id))
            #expect(try await fixture.store.storeRefreshedTokenSet(
                grantID: ews.id, tokens: TokenSet(accessToken: Secret(access + "-2"), refreshToken: Secret(refresh + "-2"), scopes: ["x"], obtainedAt: now, expiresAt: now + 3600),
                nextRefreshAt: now + 3000, expectedGeneration: snapshot.generation, at: now
            ))
            let teams = try await fixture.store.createAccount(tenantID: tenant.id, service: .teamsChat, appID: "app", licensingModel: .a)
            try await fixture.store.setClientSecret(accountID: teams.id, appID: "app", secret: Secret(secret), expiresAt: nil)
            let sharepoint = try await fixture.store.createAccount(tenantID: tenant.id, service: .sharepointOnline, appID: "app2", licensingModel: nil)
            try await fixture.store.setClientCertificate(
                accountID: sharepoint.id, appID: "app2", certificate: AccountCertificate(certificatePEM: "PEM", privateKey: Secret(key)),
                thumbprint: "AB", expiresAt: now + 86_400
            )
            _ = try await fixture.store.applyRenewal(
                TokenRenewalRecord(
                    grantID: graph.id, tokens: TokenSet(accessToken: Secret(access + "-3"), refreshToken: Secret(refresh + "-3"), scopes: [], obtainedAt: now, expiresAt: now),
                    nextRefreshAt: now, clientSecret: nil, at: now
                ),
                alert: { _, _ in NewAlert(kind: "token-renewed", severity: .info, subject: "s", body: "b") }, channels: []
            )
            // Every value reads back through the store...
            #expect(try await fixture.store.tokenSet(grantID: ews.id)?.refreshToken == Secret(refresh + "-2"))
            #expect(try await fixture.store.clientSecret(accountID: teams.id) == Secret(secret))
            #expect(try await fixture.store.clientCertificate(accountID: sharepoint.id)?.privateKey == Secret(key))
            // ...and none is in the database in clear.
            for value in [access, refresh, access + "-2", refresh + "-2", access + "-3", refresh + "-3", secret, key] {
                #expect(try await !fixture.holdsInClear(value), "found in clear in the \(kind) store")
            }
            // The search can fail: the same kind of value in a plain column is found.
            try await fixture.store.setAccountDetails(id: teams.id, detailsJSON: "{\"probe\":\"\(secret)\"}")
            #expect(try await fixture.holdsInClear(secret), "the search must see plain text")
        }
    }
}
