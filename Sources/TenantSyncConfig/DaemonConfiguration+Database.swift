import Foundation
import TenantSyncCore
#if canImport(Glibc)
import Glibc
#endif

/// `[database]`, `[cluster]` and the node's name: where the state lives and how this daemon is known among others.
extension DaemonConfiguration {
    /// How the connection to PostgreSQL is protected.
    public enum DatabaseTLS: String, Sendable, Equatable, CaseIterable {
        /// TLS, the server's certificate checked against the CA and its name against the host.
        case verifyFull = "verify-full"
        /// TLS without checking the certificate (encryption only).
        case require
        /// No TLS; accepted only for loopback hosts.
        case disable
    }

    public struct DatabaseSection: Sendable, Equatable {
        /// `url`: PostgreSQL; `nil`: SQLite in the state directory.
        public var url: PostgreSQLURL? = nil
        /// `password_file` as written; `nil`: the `database-password` credential, if present.
        public var passwordFile: String? = nil
        /// The password read at load; `nil`: connect without one (trust or peer authentication).
        public var password: Secret? = nil
        public var tls: DatabaseTLS = .verifyFull
        /// CA bundle for the server's certificate; `nil`: the system trust store.
        public var caFile: String? = nil
    }

    public struct ClusterSection: Sendable, Equatable {
        /// How long a lease on work (a grant, a tenant, an outbox row) lasts unless renewed.
        public var leaseDuration: Duration = .seconds(30)
    }

    /// The machine's host name (`gethostname`), the default `[daemon] node_name`.
    public static func systemHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
