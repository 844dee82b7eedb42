import Foundation
import TenantSyncCore
import Testing

/// Credential expiries and their alert stages, on both stores (moved from TenantSyncStoreTests).
@Suite("Credential expiries in the store")
struct CredentialExpiryStoreTests {
    static let tenant = "00000000-0000-0000-0000-000000000001"

    @Test("A Teams secret stored with an expiry records it; a renewal without one forgets it; deleting the account removes it", arguments: StoreKind.allCases)
    func teamsSecretExpiryFollowsTheSecret(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let store = fixture.store
            _ = try await store.upsertTenant(id: Self.tenant, domain: "contoso.com", displayName: nil)
            let account = try await store.createAccount(tenantID: Self.tenant, service: .teamsChat, appID: "app-1", licensingModel: .a)
            let expires = Date(timeIntervalSince1970: 1_814_313_600)
            try await store.setClientSecret(accountID: account.id, appID: "app-1", secret: Secret("s1"), expiresAt: expires)
            #expect(try await store.credentialExpiries().map(\.expiresAt) == [expires])
            // An alerted stage survives the same secret stored again, not a new expiry.
            let alert = NewAlert(kind: "credential-expiring", severity: .warning, subject: "s", body: "b")
            #expect(try await store.raiseCredentialExpiryAlert(
                credential: CredentialExpiry.account(account.id), expiresAt: expires, days: 30, alert: alert, channels: ["journal"], at: Date()
            ) != nil)
            #expect(try await store.raiseCredentialExpiryAlert(
                credential: CredentialExpiry.account(account.id), expiresAt: expires, days: 30, alert: alert, channels: ["journal"], at: Date()
            ) == nil, "a stage alerts once")
            try await store.setClientSecret(accountID: account.id, appID: "app-1", secret: Secret("s1"), expiresAt: expires)
            #expect(try await store.credentialExpiries().first?.alertedDays == 30)
            try await store.setClientSecret(accountID: account.id, appID: "app-1", secret: Secret("s2"), expiresAt: expires.addingTimeInterval(86_400))
            #expect(try await store.credentialExpiries().first?.alertedDays == nil)
            try await store.setClientSecret(accountID: account.id, appID: "app-1", secret: Secret("s3"), expiresAt: nil)
            #expect(try await store.credentialExpiries().isEmpty)
            try await store.setClientSecret(accountID: account.id, appID: "app-1", secret: Secret("s4"), expiresAt: expires)
            try await store.deleteAccount(id: account.id)
            #expect(try await store.credentialExpiries().isEmpty)
        }
    }

    @Test("A rotation (new expiry or thumbprint) clears the alerted stage; the same credential keeps it", arguments: StoreKind.allCases)
    func recordedExpiriesKeepTheirStageOnlyWhileUnchanged(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let store = fixture.store
            let expires = Date(timeIntervalSince1970: 1_814_313_600.5)
            let product = CredentialExpiry(credential: "product", accountID: nil, kind: .certificate, thumbprint: "AB12", expiresAt: expires)
            try await store.recordCredentialExpiry(product, at: Date())
            let alert = NewAlert(kind: "credential-expiring", severity: .warning, subject: "s", body: "b")
            let raised = try await store.raiseCredentialExpiryAlert(
                credential: "product", expiresAt: expires, days: 7, alert: alert, channels: ["journal", "smtp"], at: Date()
            )
            #expect(raised?.kind == "credential-expiring")
            #expect(try await store.deliveries(alertID: try #require(raised).id).map(\.channel) == ["journal", "smtp"])
            #expect(try await store.raiseCredentialExpiryAlert(
                credential: "product", expiresAt: expires, days: 30, alert: alert, channels: ["journal"], at: Date()
            ) == nil, "a farther stage after a nearer one raises nothing")
            #expect(try await store.raiseCredentialExpiryAlert(
                credential: "product", expiresAt: expires.addingTimeInterval(1), days: 1, alert: alert, channels: ["journal"], at: Date()
            ) == nil, "an expiry that is no longer the stored one raises nothing")
            try await store.recordCredentialExpiry(product, at: Date())
            #expect(try await store.credentialExpiries() == [CredentialExpiry(
                credential: "product", accountID: nil, kind: .certificate, thumbprint: "AB12", expiresAt: expires, alertedDays: 7
            )])
            var rotated = product
            rotated.thumbprint = "CD34"
            try await store.recordCredentialExpiry(rotated, at: Date())
            #expect(try await store.credentialExpiries().first?.alertedDays == nil, "a new certificate starts over")
            try await store.removeCredentialExpiry(credential: "product")
            #expect(try await store.credentialExpiries().isEmpty)
        }
    }
}
