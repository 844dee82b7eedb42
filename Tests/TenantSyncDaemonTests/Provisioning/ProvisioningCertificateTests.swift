import ControlPlane
import Foundation
import GRDB
import M365Emulator
import Testing
import TestSupport

/// Teams Chat's own app provisioned with a certificate credential through `tenantsyncctl`, the real daemon and the
/// emulator (which verifies the client assertions with real crypto against the registered certificate).
@Suite("Provisioning Teams Chat with a certificate", .serialized)
struct ProvisioningCertificateTests {
    /// The account's own-app credential columns and expiry row, read from the daemon's database.
    struct StoredCredential {
        var secretSealed: Data?
        var certificatePEM: String?
        var keySealed: Data?
        var expiryKind: String?
    }

    static func stored(_ h: ProvisioningHarness, accountID: Int64) async throws -> StoredCredential {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: h.directory + "/state/tenantsync.sqlite", configuration: configuration)
        defer { try? queue.close() }
        return try await queue.read { db in
            let row = try #require(try Row.fetchOne(
                db, sql: "SELECT client_secret_sealed, client_certificate_pem, client_key_sealed FROM service_accounts WHERE id = ?",
                arguments: [accountID]
            ))
            let kind = try String.fetchOne(
                db, sql: "SELECT kind FROM credential_expiries WHERE credential = ?", arguments: ["account:\(accountID)"]
            )
            return StoredCredential(
                secretSealed: row["client_secret_sealed"], certificatePEM: row["client_certificate_pem"], keySealed: row["client_key_sealed"],
                expiryKind: kind
            )
        }
    }

    /// The lines of the key's base64 body: none may appear anywhere in the database files.
    static func keyLines(_ made: TestCertificate) -> [String] {
        made.privateKeyPEM.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("-----") && $0.count >= 40 }
    }

    static func databaseBytes(_ h: ProvisioningHarness) -> String {
        let base = h.directory + "/state/tenantsync.sqlite"
        return ["", "-wal"].compactMap { FileManager.default.contents(atPath: base + $0) }
            .map { String(decoding: $0, as: UTF8.self) }.joined()
    }

    @Test func provisionedWithACertificateTheAppGetsTokensAndTheKeyIsSealed() async throws {
        try await ProvisioningHarness.with { h in
            // The app's secret is one the daemon is never given: only a client assertion can get its tokens.
            try h.registerTeamsApp()
            let made = try TestCertificate(commonName: "contoso teams")
            try h.emulator.addCertificate(tenant: h.tenant.id, appId: ProvisioningHarness.teamsAppID, pem: made.certificatePEM)
            let files = try made.write(to: h.directory, name: "teams")

            let run = try await h.provision("teams-chat", [
                "--app-id", ProvisioningHarness.teamsAppID, "--certificate-file", files.certificate, "--key-file", files.key,
                "--licensing-model", "A",
            ])
            #expect(run.status == 0, "\(run.all)")
            #expect(run.stdout.contains("Teams Chat protected."))
            let account = try #require(try await h.account("teams-chat"))
            let detail = try await h.detail(account.id)
            #expect(detail.state == .active)
            #expect(detail.appID == ProvisioningHarness.teamsAppID)
            #expect(detail.grants.map(\.flow) == [.clientCredentials])

            // The certificate's notAfter is the credential expiry `status` names.
            let status = try await h.ctl(["status"])
            #expect(status.stdout.contains("Nearest credential expiry: certificate"), "\(status.all)")
            #expect(status.stdout.contains("of the Teams Chat app of account \(account.id)"), "\(status.all)")

            // Stored: the certificate as it is, the key sealed, no secret; the key's text is nowhere in the files.
            let stored = try await Self.stored(h, accountID: account.id)
            #expect(stored.certificatePEM == made.certificatePEM.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(stored.keySealed != nil)
            #expect(stored.secretSealed == nil)
            #expect(stored.expiryKind == "certificate")
            let bytes = Self.databaseBytes(h)
            #expect(!bytes.isEmpty)
            for line in Self.keyLines(made) {
                #expect(!bytes.contains(line), "the private key is in the database in clear")
                #expect(!run.all.contains(line) && !h.daemon.log.contains(line), "the private key was printed or logged")
            }
        }
    }

    @Test func aKeyThatDoesNotMatchTheCertificateIsRefusedAndNothingIsStored() async throws {
        try await ProvisioningHarness.with { h in
            try h.registerTeamsApp()
            let made = try TestCertificate(commonName: "contoso teams")
            let other = try TestCertificate(commonName: "someone else")
            try h.emulator.addCertificate(tenant: h.tenant.id, appId: ProvisioningHarness.teamsAppID, pem: made.certificatePEM)
            let certificate = try made.write(to: h.directory, name: "teams").certificate
            let wrongKey = try other.write(to: h.directory, name: "other").key

            let run = try await h.provision("teams-chat", [
                "--app-id", ProvisioningHarness.teamsAppID, "--certificate-file", certificate, "--key-file", wrongKey,
                "--licensing-model", "A",
            ])
            #expect(run.status != 0)
            #expect(run.all.contains("The private key does not belong to the certificate"), "\(run.all)")
            for line in Self.keyLines(other) { #expect(!run.all.contains(line) && !h.daemon.log.contains(line)) }
            let account = try #require(try await h.account("teams-chat"))
            let detail = try await h.detail(account.id)
            #expect(detail.state == .provisioning && detail.provisioningStep == "app-credentials" && detail.grants.isEmpty)
            let stored = try await Self.stored(h, accountID: account.id)
            #expect(stored.certificatePEM == nil && stored.keySealed == nil && stored.secretSealed == nil && stored.expiryKind == nil)
        }
    }

    @Test func aKeyFileOthersCanReadIsRefusedByTheCLI() async throws {
        try await ProvisioningHarness.with { h in
            try h.registerTeamsApp()
            let made = try TestCertificate()
            let files = try made.write(to: h.directory, name: "teams")
            #expect(chmod(files.key, 0o644) == 0)
            let run = try await h.provision("teams-chat", [
                "--app-id", ProvisioningHarness.teamsAppID, "--certificate-file", files.certificate, "--key-file", files.key,
                "--licensing-model", "A",
            ])
            #expect(run.status != 0)
            #expect(run.all.contains("has mode 644") && run.all.contains("chmod 600"), "\(run.all)")
            for line in Self.keyLines(made) { #expect(!run.all.contains(line)) }
            #expect(try await h.account("teams-chat") == nil, "nothing reached the daemon")
        }
    }

    @Test func renewSwitchesASecretBasedTeamsAppToACertificate() async throws {
        try await ProvisioningHarness.with { h in
            try h.registerTeamsApp()
            let first = try await h.provision("teams-chat", [
                "--app-id", ProvisioningHarness.teamsAppID, "--secret-file", try h.secretFile(ProvisioningHarness.teamsSecret),
                "--licensing-model", "A", "--secret-expires", "2027-06-30",
            ])
            #expect(first.status == 0, "\(first.all)")
            let account = try #require(try await h.account("teams-chat"))
            #expect(try await Self.stored(h, accountID: account.id).expiryKind == "secret")

            let made = try TestCertificate(commonName: "contoso teams")
            try h.emulator.addCertificate(tenant: h.tenant.id, appId: ProvisioningHarness.teamsAppID, pem: made.certificatePEM)
            let files = try made.write(to: h.directory, name: "teams")
            let renewed = try await h.ctl([
                "renew", "\(account.id)", "--app-id", ProvisioningHarness.teamsAppID, "--certificate-file", files.certificate, "--key-file", files.key,
            ])
            #expect(renewed.status == 0, "\(renewed.all)")
            let stored = try await Self.stored(h, accountID: account.id)
            #expect(stored.secretSealed == nil, "the secret is replaced, not kept beside the certificate")
            #expect(stored.certificatePEM != nil && stored.keySealed != nil)
            #expect(stored.expiryKind == "certificate")
            let detail = try await h.detail(account.id)
            #expect(detail.state == .active)
            #expect(detail.clientSecretExpiresAt == nil)
            for line in Self.keyLines(made) { #expect(!renewed.all.contains(line) && !Self.databaseBytes(h).contains(line)) }
        }
    }
}
