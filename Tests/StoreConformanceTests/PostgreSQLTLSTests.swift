import Credentials
import Foundation
import Logging
import TenantSyncCore
@testable import TenantSyncPostgreSQL
import TestSupport
import Testing

/// `[database] tls` mapped onto postgres-nio, against the private server (TLS with a CA of its own).
@Suite("PostgreSQL store TLS modes")
struct PostgreSQLTLSTests {
    /// Whether the server sees the store's connections (by application name) encrypted, after a ping.
    func connectionsAreEncrypted(_ server: PostgreSQLServer, settings: PostgreSQLStoreSettings) async throws -> String {
        let store = PostgreSQLStore(settings: settings, sealer: try SecretSealer(keyBytes: StoreKind.key), logger: Logger(label: "test"))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            try await store.prepare()
            try await store.ping()
            // The pool keeps the connection open (idle) after the ping; the server reports how it is protected.
            let seen = try await server.psql(database: "postgres", """
                SELECT string_agg(DISTINCT s.ssl::text, ',') FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
                WHERE a.application_name = '\(settings.applicationName)'
                """)
            try await store.close()
            return seen.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    func settings(_ server: PostgreSQLServer, _ database: String, _ tls: PostgreSQLTLSMode, host: String) -> PostgreSQLStoreSettings {
        var settings = server.settings(database: database, tls: tls, host: host)
        settings.applicationName = "tls-test-\(tls.rawValue)-\(UUID().uuidString.prefix(8))"
        return settings
    }

    @Test func verifyFullConnectsEncryptedWithTheCAAndTheCertificatesName() async throws {
        let server = try await PostgreSQLServer.shared()
        let database = try await server.createDatabase()
        #expect(try await connectionsAreEncrypted(server, settings: settings(server, database, .verifyFull, host: "localhost")) == "true")
    }

    @Test func verifyFullRefusesACertificateTheSystemRootsDoNotTrust() async throws {
        let server = try await PostgreSQLServer.shared()
        var settings = settings(server, try await server.createDatabase(), .verifyFull, host: "localhost")
        settings.caFile = nil
        let error = await #expect(throws: TenantSyncError.self) { try await connectionsAreEncrypted(server, settings: settings) }
        #expect(error?.context["reason"] == "unreachable")
        #expect(error?.message.lowercased().contains("certificate") == true, "names the cause: \(String(describing: error))")
    }

    @Test func requireConnectsEncryptedWithoutVerifying() async throws {
        let server = try await PostgreSQLServer.shared()
        var settings = settings(server, try await server.createDatabase(), .require, host: "127.0.0.1")
        settings.caFile = nil
        #expect(try await connectionsAreEncrypted(server, settings: settings) == "true")
    }

    @Test func disableConnectsInPlainText() async throws {
        let server = try await PostgreSQLServer.shared()
        #expect(try await connectionsAreEncrypted(server, settings: settings(server, try await server.createDatabase(), .disable, host: "127.0.0.1")) == "false")
    }
}
