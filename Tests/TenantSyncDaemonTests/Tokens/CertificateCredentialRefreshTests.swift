import Credentials
import Foundation
import M365Emulator
import MicrosoftCloud
import Testing
import TestSupport
import TenantSyncCore
import TenantSyncStore
@testable import TenantSyncDaemon

/// The token refresher with the product app authenticating by certificate: tokens while the certificate is
/// registered, and the same incident as an invalid secret when Microsoft refuses the assertion.
@Suite("Token refresher with a certificate credential", .serialized)
struct CertificateCredentialRefreshTests {
    /// A Teams Chat account in evaluation mode: its client-credentials grant authenticates as the product app.
    static func evaluationGrant(_ f: TokenFixture) async throws -> Grant {
        let account = try await f.store.createAccount(tenantID: f.tenant.id, service: .teamsChat, appID: nil, licensingModel: .evaluation)
        let grant = try await f.store.addGrant(accountID: account.id, name: "app", resource: f.graphResource, flow: .clientCredentials)
        let first = try await f.client.clientCredentials(tenant: f.tenant.id, client: f.productApp, scope: f.graphResource)
        try await f.store.storeTokenSet(grantID: grant.id, tokens: first, nextRefreshAt: f.wall.now)
        try await f.store.setAccountState(id: account.id, state: .active, provisioningStep: nil, provisioningError: nil)
        return grant
    }

    static func refresher(_ f: TokenFixture, certificate: ClientCertificate) -> TokenRefresher {
        let productApp = OAuthClientCredentials(clientID: EmulatorDefaults.clientID, certificate: certificate)
        return TokenRefresher(
            storage: f.store, granter: MicrosoftTokenGranter(client: f.client, productApp: productApp, accounts: f.store),
            configuration: .init(alertChannels: TokenFixture.channels), logger: f.logs.logger("refresher"), clock: ContinuousClock(),
            now: { f.wall.now }, random: { 0.5 }
        )
    }

    enum Refusal: String, CaseIterable, Sendable {
        /// The certificate was removed from the app registration (or never uploaded): AADSTS700027.
        case unknownCertificate
        /// The host's clock is an hour behind, so every assertion has expired on arrival: AADSTS700024.
        case clockBehind
    }

    @Test("Certificate client credentials refresh; a refused assertion invalidates the grant with one incident and one alert", arguments: Refusal.allCases)
    func refusedAssertionIsAnIncident(_ refusal: Refusal) async throws {
        try await TokenFixture.run { f in
            let made = try TestCertificate()
            let certificate = try ClientCertificate(certificatePEM: made.certificatePEM, privateKeyPEM: Secret(made.privateKeyPEM))
            let thumbprint = try f.emulator.addCertificate(tenant: f.tenant.id, appId: EmulatorDefaults.clientID, pem: made.certificatePEM)
            let grant = try await Self.evaluationGrant(f)
            // Only the certificate authenticates from here: the product's secret is gone.
            try f.emulator.setSecret(tenant: f.tenant.id, appId: EmulatorDefaults.clientID, secret: "not-known-to-the-daemon")
            // Making a grant due moves the test's wall clock; Microsoft's clock moves with it, or every assertion
            // would look signed in the future (AADSTS700024).
            var emulatorLead: TimeInterval = 0
            func due() async throws {
                try await f.makeDue(grant.id)
                let lead = f.wall.now.timeIntervalSince(Date())
                if lead > emulatorLead {
                    try f.emulator.advanceClock(by: lead - emulatorLead)
                    emulatorLead = lead
                }
            }
            try await due()
            let refresher = Self.refresher(f, certificate: certificate)
            #expect(await refresher.refreshIfDue(grantID: grant.id, onDemand: false), "a token with the certificate")
            try await due()
            #expect(await refresher.refreshIfDue(grantID: grant.id, onDemand: false), "and again, with a new assertion")

            let expected: Int
            switch refusal {
            case .unknownCertificate:
                try f.emulator.removeCertificate(tenant: f.tenant.id, appId: EmulatorDefaults.clientID, thumbprint: thumbprint)
                expected = 700027
            case .clockBehind:
                // Microsoft's clock an hour ahead of the host's: every assertion has expired on arrival.
                try f.emulator.advanceClock(by: 3_600)
                expected = 700024
            }
            try await due()
            #expect(await !refresher.refreshIfDue(grantID: grant.id, onDemand: false))
            #expect(await !refresher.refreshIfDue(grantID: grant.id, onDemand: true))
            let incidents = try await f.store.openIncidents()
            #expect(incidents.count == 1, "one incident, however often it is retried")
            #expect(incidents.first?.aadstsCode == expected)
            #expect(incidents.first?.error == "invalid_client")
            #expect(try await f.store.grant(id: grant.id)?.state == .invalid)
            let alerts = try await f.alerts(kind: "token-invalid")
            #expect(alerts.count == 1)
            #expect(alerts.first?.facts.aadstsCode == expected)
            // The key never reaches a log line or an alert.
            let keyLine = made.privateKeyPEM.split(separator: "\n")[1]
            #expect(!f.logs.text.contains(keyLine))
            #expect(!(alerts.first?.body.contains(keyLine) ?? true))
        }
    }
}
