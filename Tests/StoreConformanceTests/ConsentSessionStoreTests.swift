import Foundation
import TenantSyncCore
import Testing

/// Pending device-code consents, on both stores: what any node continuing a provisioning reads back.
@Suite("Pending consents in the store")
struct ConsentSessionStoreTests {
    static func consent(accountID: Int64, stage: String = "consent-graph", code: String, expiresAt: Date) -> PendingConsent {
        PendingConsent(
            accountID: accountID, stage: stage, deviceCode: Secret(code), userCode: "ABCD-1234",
            verificationURI: "https://microsoft.com/devicelogin", message: "To sign in, use a web browser.", interval: .seconds(5),
            scopes: ["https://graph.microsoft.com/.default", "offline_access"], expiresAt: expiresAt
        )
    }

    @Test("A pending consent reads back whole for its stage until it expires; one per account; removed with the account", arguments: StoreKind.allCases)
    func pendingConsentRoundTrip(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let store = fixture.store
            let (_, account, _, _) = try await fixture.seedExchangeAccount()
            let now = Date(timeIntervalSince1970: 1_796_000_000.25)
            let code = "GAQABAAEAAAB-conformance-device-code-" + UUID().uuidString
            let first = Self.consent(accountID: account.id, code: code, expiresAt: now + 900)
            try await store.savePendingConsent(first, at: now)
            let read = try #require(try await store.pendingConsent(accountID: account.id, stage: "consent-graph", now: now + 60))
            #expect(read.deviceCode == first.deviceCode)
            #expect(read.userCode == first.userCode && read.verificationURI == first.verificationURI && read.message == first.message)
            #expect(read.interval == .seconds(5) && read.scopes == first.scopes)
            #expect(abs(read.expiresAt.timeIntervalSince(first.expiresAt)) < 0.002)
            #expect(try await store.pendingConsent(accountID: account.id, stage: "consent-ews", now: now) == nil, "another stage's consent is not this one")
            #expect(try await store.pendingConsent(accountID: account.id, stage: "consent-graph", now: now + 900) == nil, "expired")
            #expect(try await fixture.holdsInClear(code) == false, "the device code is sealed")

            // A new code for the account replaces the old one.
            let second = Self.consent(accountID: account.id, stage: "consent-ews", code: code + "-2", expiresAt: now + 1800)
            try await store.savePendingConsent(second, at: now + 30)
            #expect(try await store.pendingConsent(accountID: account.id, stage: "consent-graph", now: now + 60) == nil)
            #expect(try await store.pendingConsent(accountID: account.id, stage: "consent-ews", now: now + 60)?.deviceCode == Secret(code + "-2"))

            try await store.removePendingConsent(accountID: account.id)
            #expect(try await store.pendingConsent(accountID: account.id, stage: "consent-ews", now: now + 60) == nil)

            try await store.savePendingConsent(second, at: now + 30)
            try await store.deleteAccount(id: account.id)
            #expect(try await fixture.sql("SELECT count(*) FROM consent_sessions") == ["0"], "deleting the account removes its consent")
        }
    }

    @Test("Saving a consent forgets the expired consents of every account", arguments: StoreKind.allCases)
    func expiredConsentsAreForgotten(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let store = fixture.store
            let (tenant, first, _, _) = try await fixture.seedExchangeAccount()
            let other = try await store.createAccount(tenantID: tenant.id, service: .sharepointOnline, appID: nil, licensingModel: nil)
            let now = Date(timeIntervalSince1970: 1_796_000_000)
            try await store.savePendingConsent(Self.consent(accountID: first.id, code: "a-" + UUID().uuidString, expiresAt: now + 60), at: now)
            try await store.savePendingConsent(Self.consent(accountID: other.id, code: "b-" + UUID().uuidString, expiresAt: now + 900), at: now + 120)
            #expect(try await fixture.sql("SELECT account_id FROM consent_sessions ORDER BY account_id") == ["\(other.id)"])
        }
    }
}
