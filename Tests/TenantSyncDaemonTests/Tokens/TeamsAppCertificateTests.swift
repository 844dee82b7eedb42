import Credentials
import Foundation
import M365Emulator
import MicrosoftCloud
import Testing
import TestSupport
import TenantSyncCore
import TenantSyncStore
@testable import TenantSyncDaemon

/// A Teams Chat account's own app switched from a secret to a certificate by a renewal, against the emulator with
/// real crypto: the store then holds the certificate and the sealed key (no secret), the expiry is the certificate's,
/// and every later token request for the grant is a client assertion.
@Suite("Teams Chat app with a certificate credential", .serialized)
struct TeamsAppCertificateTests {
    @Test("A renewal switches a secret-based Teams app to a certificate; refreshes then sign client assertions")
    func renewalSwitchesToACertificate() async throws {
        try await TokenFixture.run { f in
            let appID = "0d3c1a2b-0000-4000-8000-0000000ce271"
            let (account, grant) = try await f.activeTeamsAccount(appID: appID, secret: "first-teams-secret")
            let refresher = f.refresher()
            // Making the grant due moves the test's wall clock; Microsoft's clock moves with it, or every assertion
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

            let made = try TestCertificate(commonName: "contoso teams")
            let certificate = try ClientCertificate(certificatePEM: made.certificatePEM, privateKeyPEM: Secret(made.privateKeyPEM))
            let registered = try f.emulator.addCertificate(tenant: f.tenant.id, appId: appID, pem: made.certificatePEM)
            let renewal = TokenRenewal(storage: f.store, refresher: refresher, logger: f.logs.logger("renewal"), now: { f.wall.now })
            let outcome = try await renewal.renewClientCredentials(
                grantID: grant.id,
                credential: .init(
                    appID: appID, certificate: AccountCertificate(certificatePEM: certificate.certificatePEM, privateKey: Secret(made.privateKeyPEM)),
                    thumbprint: certificate.thumbprintSHA1, expiresAt: certificate.notValidAfter
                ),
                client: OAuthClientCredentials(clientID: appID, certificate: certificate), using: f.client
            )
            #expect(outcome.grant.state == .valid)

            // The certificate replaced the secret; its notAfter is the account's credential expiry.
            #expect(try await f.store.clientSecret(accountID: account.id) == nil)
            #expect(try await f.store.clientCertificate(accountID: account.id)?.privateKey.reveal == made.privateKeyPEM)
            let expiry = try #require(try await f.store.credentialExpiries().first { $0.credential == CredentialExpiry.account(account.id) })
            #expect(expiry.kind == .certificate)
            #expect(expiry.thumbprint == certificate.thumbprintSHA1)
            #expect(expiry.expiresAt == made.notValidAfter)

            // The old secret is gone at Microsoft too: the refresh can only succeed with a client assertion.
            try f.emulator.setSecret(tenant: f.tenant.id, appId: appID, secret: "a-secret-the-daemon-never-had")
            try await due()
            #expect(await refresher.refreshIfDue(grantID: grant.id, onDemand: false), "refreshes with a client assertion")

            // And it is the certificate Microsoft checks: without it registered the assertion is refused (AADSTS700027).
            try f.emulator.removeCertificate(tenant: f.tenant.id, appId: appID, thumbprint: registered)
            try await due()
            #expect(await !refresher.refreshIfDue(grantID: grant.id, onDemand: false))
            #expect(try await f.store.openIncidents().first?.aadstsCode == 700027)
        }
    }
}
