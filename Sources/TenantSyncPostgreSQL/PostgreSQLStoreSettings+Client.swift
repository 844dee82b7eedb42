import NIOCore
import NIOSSL
import PostgresNIO

extension PostgreSQLStoreSettings {
    /// The pool's configuration: the TLS mode mapped onto postgres-nio, the node name as `application_name`.
    ///
    /// verify-full checks the certificate against `host`: postgres-nio uses the configured host as the name to verify
    /// and to send as SNI (a host given as an IP address gets its chain checked but no name check: NIOSSL takes
    /// names only).
    func clientConfiguration() -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password?.reveal, database: database,
            tls: tlsConfiguration().map { .require($0) } ?? .disable
        )
        configuration.options.connectTimeout = connectTimeout
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }

    /// The same settings for one connection outside the pool (``PostgreSQLStore/prepare()`` uses one).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS = try tlsConfiguration().map { .require(try NIOSSLContext(configuration: $0)) } ?? .disable
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password?.reveal, database: database, tls: tls
        )
        configuration.options.connectTimeout = .milliseconds(Self.wholeMilliseconds(connectTimeout))
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }

    /// The settings every connection starts with: the node's name and, when set, the idle-in-transaction bound (in
    /// milliseconds, the setting's own unit).
    var startupParameters: [(String, String)] {
        var parameters = [("application_name", applicationName)]
        if let idleInTransactionTimeout {
            parameters.append(("idle_in_transaction_session_timeout", "\(max(Self.wholeMilliseconds(idleInTransactionTimeout), 1))"))
        }
        return parameters
    }

    static func wholeMilliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// `nil` for `disable`; TLS is required (never merely preferred) otherwise.
    func tlsConfiguration() -> TLSConfiguration? {
        switch tls {
        case .disable:
            return nil
        case .require:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            return configuration
        case .verifyFull:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .fullVerification
            if let caFile { configuration.trustRoots = .file(caFile) }
            return configuration
        }
    }
}
