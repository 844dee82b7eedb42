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
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return configuration
    }

    /// The same settings for one connection outside the pool (``PostgreSQLStore/prepare()`` uses one).
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS = try tlsConfiguration().map { .require(try NIOSSLContext(configuration: $0)) } ?? .disable
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password?.reveal, database: database, tls: tls
        )
        configuration.options.connectTimeout = .milliseconds(
            connectTimeout.components.seconds * 1000 + connectTimeout.components.attoseconds / 1_000_000_000_000_000
        )
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        return configuration
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
