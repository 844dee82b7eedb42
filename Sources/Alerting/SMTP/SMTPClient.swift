import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// Sends mail over SMTP with SwiftNIO: EHLO, STARTTLS or implicit TLS, AUTH PLAIN/LOGIN, one message to many recipients.
///
/// Certificates and host names are verified unless the configuration turns that off.
/// Each command waits at most `commandTimeout` for its reply. Errors name the
/// failed step and the server's reply code and never contain the password.
public struct SMTPClient: Sendable {
    private let configuration: SMTPConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    /// Resolves the host name; `nil` for the system's resolver (`getaddrinfo`).
    private let resolver: (any Resolver & Sendable)?

    /// - Parameter resolver: how the host name is resolved; `nil` (the default) for the system's resolver.
    public init(
        configuration: SMTPConfiguration, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        resolver: (any Resolver & Sendable)? = nil, logger: Logger
    ) {
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.resolver = resolver
        self.logger = logger
    }

    private var server: String { "\(configuration.host):\(configuration.port)" }

    /// Sends one message to `message.recipients`; returns once the server accepted it (`250` after DATA).
    public func send(_ message: MailMessage) async throws {
        guard !message.recipients.isEmpty else {
            throw SMTPError(step: .configuration, server: server, detail: "no recipients are configured ([smtp] to)")
        }
        let sender = try envelopeAddress(message.from)
        let recipients = try message.recipients.map { try envelopeAddress($0) }
        let tlsContext = try makeTLSContext()
        let connection = try await connect(tlsContext: tlsContext)
        do {
            try await transact(connection, tlsContext: tlsContext, sender: sender, recipients: recipients, data: message.render())
            _ = try? await connection.exchange("QUIT", step: .quit)
            try? await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private func transact(_ connection: SMTPConnection, tlsContext: NIOSSLContext?, sender: String, recipients: [String], data: String) async throws {
        try connection.require(try await connection.exchange(nil, step: .greeting), 220, step: .greeting)
        var capabilities = try await ehlo(connection)
        var encrypted = configuration.security == .tls
        if configuration.security == .starttls {
            guard capabilities.contains(where: { $0.uppercased() == "STARTTLS" }) else {
                throw SMTPError(step: .starttls, server: server, detail: "the server does not offer STARTTLS; set [smtp] security = \"tls\" or fix the server")
            }
            try connection.require(try await connection.exchange("STARTTLS", step: .starttls), 220, step: .starttls)
            try await connection.startTLS(context: tlsContext!, serverHostname: sniName)
            encrypted = true
            capabilities = try await ehlo(connection)
        }
        if let username = configuration.username {
            // Decided on the address actually connected to, not on how the host is spelled: `127.evil.example`
            // or a `localhost` that resolves elsewhere must not get the password in clear text.
            guard encrypted || Self.isLoopback(connection.channel.remoteAddress) else {
                throw SMTPError(step: .auth, server: server, detail: "refusing to send the password over an unencrypted connection; use security starttls or tls")
            }
            try await authenticate(connection, username: username, capabilities: capabilities)
        }
        try connection.require(try await connection.exchange("MAIL FROM:<\(sender)>", step: .mailFrom), 250, step: .mailFrom)
        for recipient in recipients {
            let reply = try await connection.exchange("RCPT TO:<\(recipient)>", step: .rcptTo)
            guard reply.code == 250 || reply.code == 251 else {
                throw SMTPError(step: .rcptTo, server: server, replyCode: reply.code, detail: "recipient <\(recipient)> refused: \(reply.lines.joined(separator: " "))")
            }
        }
        try connection.require(try await connection.exchange("DATA", step: .data), 354, step: .data)
        try connection.require(try await connection.exchange(Self.dotStuffed(data) + ".", step: .message), 250, step: .message)
        logger.debug("Mail accepted", metadata: ["smtp.server": "\(server)", "smtp.recipients": "\(recipients.count)"])
    }

    private func ehlo(_ connection: SMTPConnection) async throws -> [String] {
        let reply = try await connection.exchange("EHLO \(configuration.heloName)", step: .ehlo)
        try connection.require(reply, 250, step: .ehlo)
        return Array(reply.lines.dropFirst())
    }

    private func authenticate(_ connection: SMTPConnection, username: String, capabilities: [String]) async throws {
        let password = configuration.password?.reveal ?? ""
        let mechanisms = Set(capabilities.filter { $0.uppercased().hasPrefix("AUTH ") || $0.uppercased().hasPrefix("AUTH=") }
            .flatMap { $0.dropFirst(5).split(separator: " ").map { $0.uppercased() } })
        let wanted = configuration.authMechanism
        if wanted != .automatic && !mechanisms.contains(wanted.rawValue) {
            throw SMTPError(step: .auth, server: server, detail: "the server does not offer AUTH \(wanted.rawValue) (offered: \(mechanisms.sorted().joined(separator: " ")))")
        }
        if mechanisms.contains("PLAIN") && wanted != .login {
            let token = Data("\0\(username)\0\(password)".utf8).base64EncodedString()
            try connection.require(try await connection.exchange("AUTH PLAIN \(token)", step: .auth), 235, step: .auth)
        } else if mechanisms.contains("LOGIN") {
            try connection.require(try await connection.exchange("AUTH LOGIN", step: .auth), 334, step: .auth)
            try connection.require(try await connection.exchange(Data(Array(username.utf8)).base64EncodedString(), step: .auth), 334, step: .auth)
            try connection.require(try await connection.exchange(Data(Array(password.utf8)).base64EncodedString(), step: .auth), 235, step: .auth)
        } else {
            throw SMTPError(step: .auth, server: server, detail: "the server offers neither AUTH PLAIN nor AUTH LOGIN (offered: \(mechanisms.sorted().joined(separator: " ")))")
        }
    }

    private func connect(tlsContext: NIOSSLContext?) async throws -> SMTPConnection {
        let implicitTLS = configuration.security == .tls
        let sni = sniName
        let timeout = TimeAmount(configuration.commandTimeout)
        var bootstrap = ClientBootstrap(group: eventLoopGroup)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if implicitTLS, let tlsContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tlsContext, serverHostname: sni))
                    }
                    let residue = SMTPReplyDecoder.Residue()
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder(residue: residue)))
                    try channel.pipeline.syncOperations.addHandler(SMTPReplyHandler(residue: residue))
                }
            }
        if let resolver { bootstrap = bootstrap.resolver(resolver) }
        do {
            let channel = try await bootstrap.connect(host: configuration.host, port: configuration.port).get()
            return try await SMTPConnection.make(channel: channel, server: server, timeout: timeout)
        } catch {
            throw SMTPError(step: .connect, server: server, detail: "\(error)")
        }
    }

    private func makeTLSContext() throws -> NIOSSLContext? {
        guard configuration.security != .none else { return nil }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = configuration.verifyCertificate ? .fullVerification : .none
        if let caFile = configuration.caFile { tls.trustRoots = .file(caFile) }
        do {
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw SMTPError(step: .configuration, server: server, detail: "TLS set-up failed (ca_file \(configuration.caFile ?? "system")): \(error)")
        }
    }

    /// The SNI name and the name checked against the certificate; `nil` for an IP address (NIOSSL then checks the peer's IP).
    private var sniName: String? {
        var v4 = in_addr()
        var v6 = in6_addr()
        let host = configuration.host
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1 ? nil : host
    }

    /// Whether `address` is a loopback address: 127.0.0.0/8, `::1`, or 127.0.0.0/8 mapped into IPv6.
    static func isLoopback(_ address: SocketAddress?) -> Bool {
        switch address {
        case .v4(let v4):
            return UInt32(bigEndian: v4.address.sin_addr.s_addr) >> 24 == 127
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            if bytes == [UInt8](repeating: 0, count: 15) + [1] { return true }
            return bytes.prefix(10).allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF && bytes[12] == 127
        default:
            return false
        }
    }

    private func envelopeAddress(_ address: String) throws -> String {
        guard let bare = MailMessage.envelopeAddress(address) else {
            throw SMTPError(step: .configuration, server: server, detail: "not a valid mail address: \(address.debugDescription)")
        }
        return bare
    }

    /// Doubles a leading dot on every line (RFC 5321 §4.5.2) and ends with CRLF.
    static func dotStuffed(_ data: String) -> String {
        var lines = data.components(separatedBy: "\r\n")
        if lines.last == "" { lines.removeLast() }
        return lines.map { $0.hasPrefix(".") ? "." + $0 : $0 }.joined(separator: "\r\n") + "\r\n"
    }
}

import Foundation
