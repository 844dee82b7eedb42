import Foundation
import Testing
import TestSupport
import TenantSyncConfig
import TenantSyncCore

/// `[microsoft] client_certificate_file`, `client_key_file`, `client_secret_expires`, with real certificates and keys.
@Suite("Configuration: certificate credentials")
struct CertificateConfigurationTests {
    let file = "/etc/tenantsync/tenantsyncd.toml"

    /// A private directory with a certificate and its key (mode 0600), removed afterwards.
    func withFiles(_ body: (String, TestCertificate, (certificate: String, key: String)) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("certconfig-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let made = try TestCertificate(validFor: 90 * 86_400)
        try body(directory, made, try made.write(to: directory))
    }

    func parse(_ text: String, environment: [String: String] = [:]) throws(ConfigurationError) -> DaemonConfiguration {
        try ConfigurationLoader(environment: environment).parse(text: text, file: file)
    }

    @Test("A matching certificate and key load; the expiry and thumbprint come from the certificate; no secret is read")
    func matchingPairLoads() throws {
        try withFiles { directory, made, paths in
            // A client secret credential lying around must not be used next to a certificate.
            try Data("a-secret".utf8).write(to: URL(fileURLWithPath: directory + "/microsoft-client-secret"))
            let configuration = try parse("""
                [microsoft]
                client_certificate_file = "\(paths.certificate)"
                client_key_file = "\(paths.key)"
                """, environment: ["CREDENTIALS_DIRECTORY": directory])
            let certificate = try #require(configuration.microsoft.clientCertificate)
            #expect(abs(certificate.notValidAfter.timeIntervalSince(made.notValidAfter)) < 1)
            #expect(certificate.thumbprintSHA256.count == 43, "base64url of 32 bytes, unpadded")
            #expect(configuration.microsoft.clientSecret == nil)
        }
    }

    @Test("The key defaults to the systemd credential microsoft-client-key")
    func keyFromCredential() throws {
        try withFiles { directory, _, paths in
            try FileManager.default.moveItem(atPath: paths.key, toPath: directory + "/microsoft-client-key")
            let configuration = try parse("""
                [microsoft]
                client_certificate_file = "\(paths.certificate)"
                """, environment: ["CREDENTIALS_DIRECTORY": directory])
            #expect(configuration.microsoft.clientCertificate != nil)
        }
    }

    @Test("A key that does not belong to the certificate is refused at the client_key_file line, naming no key material")
    func mismatchedPairIsRefused() throws {
        try withFiles { directory, _, paths in
            let other = try TestCertificate().write(to: directory, name: "other")
            let text = """
                [microsoft]
                client_certificate_file = "\(paths.certificate)"
                client_key_file = "\(other.key)"
                """
            let error = try #require(throws: ConfigurationError.self) { try parse(text) }
            #expect(error.line == 3)
            #expect(error.message.contains("does not belong to the certificate"))
            let key = try String(contentsOfFile: other.key, encoding: .utf8)
            let body = key.split(separator: "\n").dropFirst().first.map(String.init) ?? "?"
            #expect(!error.description.contains(body), "no line of the key in the error")
        }
    }

    @Test("A key file open to group or others is refused like the sealing key")
    func keyModeIsChecked() throws {
        try withFiles { _, _, paths in
            chmod(paths.key, 0o644)
            let error = try #require(throws: ConfigurationError.self) {
                try parse("""
                    [microsoft]
                    client_certificate_file = "\(paths.certificate)"
                    client_key_file = "\(paths.key)"
                    """)
            }
            #expect(error.line == 3)
            #expect(error.message.contains("has mode 644") && error.message.contains("chmod 600"))
        }
    }

    @Test("A certificate and a secret together are refused at the certificate's line")
    func certificateAndSecretAreExclusive() throws {
        try withFiles { _, _, paths in
            let error = try #require(throws: ConfigurationError.self) {
                try parse("""
                    [microsoft]
                    client_secret_file = "/etc/tenantsync/secret"
                    client_certificate_file = "\(paths.certificate)"
                    client_key_file = "\(paths.key)"
                    """)
            }
            #expect(error.line == 3)
            #expect(error.message.contains("mutually exclusive"))
        }
    }

    @Test("A certificate without a key, and a key without a certificate, are refused with their lines")
    func halfAPairIsRefused() throws {
        try withFiles { _, _, paths in
            let noKey = try #require(throws: ConfigurationError.self) {
                try parse("[microsoft]\nclient_certificate_file = \"\(paths.certificate)\"\n")
            }
            #expect(noKey.line == 2 && noKey.message.contains("microsoft-client-key"))
            let noCertificate = try #require(throws: ConfigurationError.self) {
                try parse("[microsoft]\nclient_key_file = \"\(paths.key)\"\n")
            }
            #expect(noCertificate.line == 2)
        }
    }

    @Test("A file that is not a certificate is refused at the certificate's line")
    func notACertificate() throws {
        try withFiles { _, _, paths in
            let error = try #require(throws: ConfigurationError.self) {
                try parse("[microsoft]\nclient_certificate_file = \"\(paths.key)\"\nclient_key_file = \"\(paths.key)\"\n")
            }
            #expect(error.line == 2 && error.message.contains("not a PEM X.509 certificate"))
        }
    }

    @Test("client_secret_expires is a date (TOML or quoted), read as the start of that day in UTC")
    func secretExpiry() throws {
        let expected = Date(timeIntervalSince1970: 1_814_313_600) // 2027-06-30T00:00:00Z
        #expect(try parse("[microsoft]\nclient_secret_expires = 2027-06-30\n").microsoft.clientSecretExpires == expected)
        #expect(try parse("[microsoft]\nclient_secret_expires = \"2027-06-30\"\n").microsoft.clientSecretExpires == expected)
        let error = try #require(throws: ConfigurationError.self) { try parse("[microsoft]\n\nclient_secret_expires = \"2027-02-30\"\n") }
        #expect(error.line == 3 && error.message.contains("2027-06-30"))
    }
}
