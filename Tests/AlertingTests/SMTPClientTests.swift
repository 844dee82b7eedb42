@testable import Alerting
import Foundation
import NIOCore
import NIOPosix
import TestSupport
import Logging
import TenantSyncCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The SMTP client against a real aiosmtpd on loopback.
@Suite(.serialized)
struct SMTPClientTests {
    static let logger = Logger(label: "test.smtp")

    func configuration(_ server: SMTPServer, security: SMTPConfiguration.Security, host: String = "127.0.0.1", password: String = SMTPServer.password, caFile: String?? = nil, auth: SMTPConfiguration.AuthMechanism = .automatic) -> SMTPConfiguration {
        SMTPConfiguration(
            host: host, port: server.port, security: security, username: SMTPServer.username, password: Secret(password),
            authMechanism: auth, from: "tenantsync <tenantsync@example.org>", to: ["admin@example.org", "Sécurité Ops <secops@example.org>"],
            caFile: caFile ?? server.certificatePath, commandTimeout: .seconds(5)
        )
    }

    @Test func tokenInvalidMailArrivesOverStartTLSWithAuthPlain() async throws {
        let server = try await SMTPServer.make(mode: .starttls)
        try await server.start()
        let config = configuration(server, security: .starttls, host: "localhost")
        let composer = AlertMailComposer(from: config.from, recipients: config.to)
        let alert = Alert(
            id: 41, kind: "token-invalid", severity: .critical, tenantID: "8f3c0e51-0000-4000-8000-000000000001", accountID: 17, grantID: 3,
            incidentID: 5, subject: "x", body: "x", facts: TestAlerts.tokenInvalid(tenant: "müller-gmbh.de").facts,
            createdAt: Date(timeIntervalSince1970: 1_795_000_000), acknowledgedAt: nil
        )
        var mail = composer.compose(alert)
        mail.body += "\n.a line that starts with a dot\n..two dots\n.\n"
        try await SMTPClient(configuration: config, logger: Self.logger).send(mail)

        let messages = try await server.messages()
        let message = try #require(messages.first, "the server must have stored the mail")
        #expect(messages.count == 1)
        #expect(message["subject"] as? String == "[tenantsync] Access token invalid: Exchange Online for müller-gmbh.de (AADSTS70008)")
        #expect(message["from"] as? String == "tenantsync <tenantsync@example.org>")
        #expect(message["to"] as? [String] == ["admin@example.org", "Sécurité Ops <secops@example.org>"])
        #expect(message["content_type"] as? String == "text/plain")
        #expect(message["charset"] as? String == "utf-8")
        #expect(message["mime_version"] as? String == "1.0")
        #expect(message["transfer_encoding"] as? String == "quoted-printable")
        #expect((message["date"] as? String)?.contains("2026") == true)
        #expect((message["message_id"] as? String)?.hasSuffix("@example.org>") == true)
        #expect(message["kind"] as? String == "token-invalid")
        #expect((message["defects"] as? [String])?.isEmpty == true, "the mail must parse without defects: \(message["defects"] ?? "")")
        let body = try #require(message["body"] as? String)
        #expect(body.contains("The access token of the Exchange Online service account of müller-gmbh.de (grant graph) is invalid."))
        #expect(body.contains("Exchange Online cannot be protected: threat and data-loss scanning"))
        #expect(body.contains("Re-create the token to restore protection"))
        #expect(body.contains("    tenantsyncctl renew 17\n"))
        #expect(body.contains("AADSTS70008"))
        #expect(body.contains("0d2e5c1a-7b1f-4c59-9d0e-2b7c1c3f9a00"))
        #expect(body.contains("invalid_grant"))
        #expect(body.contains("\n.a line that starts with a dot\n..two dots\n.\n"), "dot-stuffing must be undone by the server exactly")
        let auth = try String(contentsOfFile: server.authLog, encoding: .utf8)
        #expect(auth == "PLAIN \(SMTPServer.username) ok\n")
    }

    @Test func implicitTLSWithAuthLoginAndBase64Body() async throws {
        let server = try await SMTPServer.make(mode: .tls)
        try await server.start()
        let config = configuration(server, security: .tls, auth: .login)
        let mail = MailMessage(
            from: config.from, recipients: config.to, subject: "Grüße – a long subject with ümlauts that must be split into several encoded words",
            body: "Zeile 1: ✓ protected\nZeile 2", bodyEncoding: .base64
        )
        try await SMTPClient(configuration: config, logger: Self.logger).send(mail)
        let message = try #require(try await server.messages().first)
        #expect(message["subject"] as? String == mail.subject)
        #expect(message["transfer_encoding"] as? String == "base64")
        #expect(message["body"] as? String == "Zeile 1: ✓ protected\nZeile 2")
        #expect(try String(contentsOfFile: server.authLog, encoding: .utf8) == "LOGIN \(SMTPServer.username) ok\n")
    }

    @Test func untrustedCertificateFailsAtTheHandshake() async throws {
        let server = try await SMTPServer.make(mode: .starttls)
        try await server.start()
        let config = configuration(server, security: .starttls, host: "localhost", caFile: .some(nil))
        let error = await #expect(throws: SMTPError.self) {
            try await SMTPClient(configuration: config, logger: Self.logger).send(MailMessage(from: config.from, recipients: config.to, subject: "s", body: "b"))
        }
        #expect(error?.step == .tlsHandshake, "got \(String(describing: error))")
        #expect(error.map { !"\($0)".contains(SMTPServer.password) } == true)
        #expect(try await server.messages().isEmpty)
    }

    @Test func wrongPasswordNamesTheStepAndCodeButNotThePassword() async throws {
        let server = try await SMTPServer.make(mode: .starttls)
        try await server.start()
        let wrong = "wrong-Secret-Value-123"
        let config = configuration(server, security: .starttls, password: wrong)
        let error = await #expect(throws: SMTPError.self) {
            try await SMTPClient(configuration: config, logger: Self.logger).send(MailMessage(from: config.from, recipients: config.to, subject: "s", body: "b"))
        }
        #expect(error?.step == .auth)
        #expect(error?.replyCode == 535, "got \(String(describing: error))")
        let text = error.map { "\($0)" } ?? ""
        #expect(!text.contains(wrong) && !text.contains(Data(wrong.utf8).base64EncodedString()), "the password leaked: \(text)")
        #expect(text.contains("failed at auth"))
    }

    @Test func silentServerTimesOutAtTheGreeting() async throws {
        // A listening socket nobody accepts on: the connection completes, no greeting ever comes.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        #expect(listen(fd, 4) == 0)
        let config = SMTPConfiguration(
            host: "127.0.0.1", port: Int(UInt16(bigEndian: address.sin_port)), security: .none, from: "a@example.org", to: ["b@example.org"],
            commandTimeout: .milliseconds(300)
        )
        let error = await #expect(throws: SMTPError.self) {
            try await SMTPClient(configuration: config, logger: Self.logger).send(MailMessage(from: config.from, recipients: config.to, subject: "s", body: "b"))
        }
        #expect(error?.step == .greeting)
        #expect(error?.detail.contains("no reply within") == true, "got \(String(describing: error))")
    }

    @Test func refusedConnectionFailsAtConnect() async throws {
        let config = SMTPConfiguration(host: "127.0.0.1", port: try freeLoopbackPort(), security: .starttls, from: "a@example.org", to: ["b@example.org"])
        let error = await #expect(throws: SMTPError.self) {
            try await SMTPClient(configuration: config, logger: Self.logger).send(MailMessage(from: config.from, recipients: config.to, subject: "s", body: "b"))
        }
        #expect(error?.step == .connect)
    }

    @Test func aReplyInjectedBeforeTheTLSHandshakeFailsTheConnectionBeforeAnythingIsSent() async throws {
        // The server (standing in for a man in the middle) sends "250-injected.example / 250 AUTH PLAIN" in the same
        // write as its 220 to STARTTLS. Taken as the answer to the EHLO sent inside TLS, it would steer the session.
        let server = try await SMTPServer.make(mode: .starttls, injectAfterStartTLS: true)
        try await server.start()
        let config = configuration(server, security: .starttls)
        let error = await #expect(throws: SMTPError.self) {
            try await SMTPClient(configuration: config, logger: Self.logger).send(MailMessage(from: config.from, recipients: config.to, subject: "s", body: "b"))
        }
        #expect(error?.step == .starttls, "\(String(describing: error))")
        #expect(error?.detail.contains("STARTTLS response injection") == true, "\(String(describing: error))")
        #expect(try await server.messages().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: server.authLog), "the client authenticated after an injected reply")
    }

    @Test func theSameServerWithoutInjectionIsServedOverStartTLS() async throws {
        // The control for the test above: the fixture's STARTTLS works when nothing is injected.
        let server = try await SMTPServer.make(mode: .starttls)
        try await server.start()
        let config = configuration(server, security: .starttls)
        try await SMTPClient(configuration: config, logger: Self.logger).send(MailMessage(from: config.from, recipients: config.to, subject: "s", body: "b"))
        #expect(try await server.messages().count == 1)
    }

    @Test func withoutEncryptionThePasswordGoesOnlyToALoopbackAddressWhateverTheHostIsCalled() async throws {
        let elsewhere = try #require(SMTPServer.nonLoopbackIPv4(), "this test needs an IPv4 address outside 127.0.0.0/8 on this machine")
        // A name that looks like loopback, resolved (as an attacker's DNS would) to an address that is not.
        let remote = try await SMTPServer.make(mode: .plain, listen: elsewhere)
        try await remote.start()
        let lookalike = configuration(remote, security: .none, host: "127.evil.example")
        let refused = await #expect(throws: SMTPError.self) {
            try await SMTPClient(configuration: lookalike, resolver: FixedResolver(address: elsewhere), logger: Self.logger)
                .send(MailMessage(from: lookalike.from, recipients: lookalike.to, subject: "s", body: "b"))
        }
        #expect(refused?.step == .auth, "\(String(describing: refused))")
        #expect(refused?.detail.contains("refusing to send the password over an unencrypted connection") == true, "\(String(describing: refused))")
        #expect(!FileManager.default.fileExists(atPath: remote.authLog), "the password was sent in clear text to \(elsewhere)")

        // A name that resolves to loopback is exempt, as is a loopback address written out.
        let local = try await SMTPServer.make(mode: .plain)
        try await local.start()
        let named = configuration(local, security: .none, host: "mail.internal.example")
        try await SMTPClient(configuration: named, resolver: FixedResolver(address: "127.0.0.1"), logger: Self.logger)
            .send(MailMessage(from: named.from, recipients: named.to, subject: "s", body: "b"))
        let literal = configuration(local, security: .none, host: "127.0.0.1")
        try await SMTPClient(configuration: literal, logger: Self.logger).send(MailMessage(from: literal.from, recipients: literal.to, subject: "s", body: "b"))
        #expect(try await local.messages().count == 2)
        #expect(try String(contentsOfFile: local.authLog, encoding: .utf8) == "PLAIN \(SMTPServer.username) ok\nPLAIN \(SMTPServer.username) ok\n")
    }

    @Test("loopback is 127.0.0.0/8, ::1 and IPv4-mapped 127.0.0.0/8, decided on the address", arguments: [
        ("127.0.0.1", true), ("127.255.0.9", true), ("::1", true), ("::ffff:127.0.0.2", true),
        ("128.0.0.1", false), ("10.127.0.1", false), ("::2", false), ("::ffff:10.0.0.1", false), ("fe80::1", false),
    ])
    func loopbackAddresses(address: String, loopback: Bool) throws {
        #expect(SMTPClient.isLoopback(try SocketAddress(ipAddress: address, port: 25)) == loopback)
    }
}

/// A name service answering every name with one IPv4 address: the DNS an attacker controls, played by the test.
struct FixedResolver: Resolver, Sendable {
    let address: String

    func initiateAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        MultiThreadedEventLoopGroup.singleton.any().makeCompletedFuture { [try SocketAddress(ipAddress: address, port: port)] }
    }

    func initiateAAAAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        MultiThreadedEventLoopGroup.singleton.any().makeSucceededFuture([])
    }

    func cancelQueries() {}
}
