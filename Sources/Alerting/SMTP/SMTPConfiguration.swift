import TenantSyncCore

/// How to reach the mail server (`[smtp]` in the configuration).
public struct SMTPConfiguration: Sendable {
    /// How the connection is protected.
    public enum Security: String, Sendable, CaseIterable {
        /// Plain connect, then `STARTTLS` (required: refused if the server does not offer it). Port 587.
        case starttls
        /// TLS from the first byte (implicit TLS, "SMTPS"). Port 465.
        case tls
        /// No encryption; AUTH is then refused unless the server is on loopback.
        case none
    }

    /// Which AUTH mechanism to use.
    public enum AuthMechanism: String, Sendable, CaseIterable {
        /// PLAIN if the server offers it, else LOGIN.
        case automatic = "auto"
        case plain = "PLAIN"
        case login = "LOGIN"
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var username: String?
    public var password: Secret?
    public var authMechanism: AuthMechanism
    /// The sender, `addr@example.com` or `Name <addr@example.com>`.
    public var from: String
    /// The administrators who receive alerts.
    public var to: [String]
    /// A PEM file of CA certificates to trust instead of the system's.
    public var caFile: String?
    /// Certificate and host name verification; turn off only for a test server.
    public var verifyCertificate: Bool
    /// The limit for connecting and for each command's reply.
    public var commandTimeout: Duration
    /// The name sent with `EHLO`.
    public var heloName: String

    public init(
        host: String, port: Int? = nil, security: Security = .starttls, username: String? = nil, password: Secret? = nil,
        authMechanism: AuthMechanism = .automatic, from: String, to: [String], caFile: String? = nil, verifyCertificate: Bool = true,
        commandTimeout: Duration = .seconds(30), heloName: String = "localhost"
    ) {
        self.host = host
        self.port = port ?? (security == .tls ? 465 : 587)
        self.security = security
        self.username = username
        self.password = password
        self.authMechanism = authMechanism
        self.from = from
        self.to = to
        self.caFile = caFile
        self.verifyCertificate = verifyCertificate
        self.commandTimeout = commandTimeout
        self.heloName = heloName
    }
}
