/// How the PostgreSQL store protects its connections (`[database] tls`).
public enum PostgreSQLTLSMode: String, Sendable, CaseIterable {
    /// Encrypted, and the server's certificate must chain to the CA file (or the system's roots) and name the host.
    case verifyFull = "verify-full"
    /// Encrypted, the certificate not checked: protects against a passive listener only.
    case require
    /// Plain TCP: for a server on the loopback interface only.
    case disable
}
