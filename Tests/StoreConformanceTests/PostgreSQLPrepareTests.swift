import Credentials
import Foundation
import Logging
import Migrations
import PostgreSQLMigrations
import TenantSyncCore
@testable import TenantSyncPostgreSQL
import TestSupport
import Testing

/// Starting the PostgreSQL store: connecting, migrating under the advisory lock, the key's check value.
@Suite("PostgreSQL store start-up")
struct PostgreSQLPrepareTests {
    static let otherKey: [UInt8] = (0..<32).map { UInt8(($0 * 13 + 5) % 251) }
    /// A migration after the embedded ones: whether its table exists shows whether a start wrote anything.
    static let marker = SchemaMigration(
        version: PostgreSQLSchemaMigrations.latestVersion + 1, fileName: "9999_marker.sql", sql: "CREATE TABLE test_marker (x integer);"
    )

    /// Runs `body` with a started store's pool; `prepare()` is the body's to call.
    func withStore<Result: Sendable>(
        _ settings: PostgreSQLStoreSettings, key: [UInt8] = StoreKind.key, migrations: [SchemaMigration] = PostgreSQLSchemaMigrations.all,
        _ body: (PostgreSQLStore) async throws -> Result
    ) async throws -> Result {
        let store = PostgreSQLStore(settings: settings, sealer: try SecretSealer(keyBytes: key), logger: Logger(label: "test"), migrations: migrations)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            let result = try await body(store)
            try await store.close()
            return result
        }
    }

    @Test func aNewDatabaseGetsTheSchemaAndTheKeysCheckValue() async throws {
        let server = try await PostgreSQLServer.shared()
        let database = try await server.createDatabase()
        try await withStore(server.settings(database: database)) { store in
            try await store.prepare()
            #expect(try await store.schemaVersion() == PostgreSQLSchemaMigrations.latestVersion)
            try await store.ping()
        }
        #expect(try await server.psql(database: database, "SELECT count(*) FROM store_key_check") == "1\n")
        let versions = try await server.psql(database: database, "SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations")
        #expect(versions == PostgreSQLSchemaMigrations.all.map { "\($0.version)" }.joined(separator: ",") + "\n")
        // A second start on the same database applies nothing again and opens the check value.
        try await withStore(server.settings(database: database)) { store in try await store.prepare() }
    }

    @Test func storesStartingTogetherApplyEachMigrationOnce() async throws {
        let server = try await PostgreSQLServer.shared()
        let database = try await server.createDatabase()
        let migrations = PostgreSQLSchemaMigrations.all + [Self.marker]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await withStore(server.settings(database: database), migrations: migrations) { store in try await store.prepare() }
                }
            }
            try await group.waitForAll()
        }
        let applied = try await server.psql(database: database, "SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version")
        #expect(applied == migrations.map { "\($0.version)|1\n" }.joined(), "each migration recorded once")
        #expect(try await server.psql(database: database, "SELECT count(*) FROM store_key_check") == "1\n")
    }

    @Test func aNodeWithAnotherKeyIsRefusedBeforeItWritesAnything() async throws {
        let server = try await PostgreSQLServer.shared()
        let database = try await server.createDatabase()
        try await withStore(server.settings(database: database)) { store in try await store.prepare() }
        let checkBefore = try await server.psql(database: database, "SELECT encode(sealed, 'hex') FROM store_key_check")

        let error = await #expect(throws: TenantSyncError.self) {
            try await withStore(server.settings(database: database), key: Self.otherKey, migrations: PostgreSQLSchemaMigrations.all + [Self.marker]) { store in
                try await store.prepare()
            }
        }
        #expect(error?.code == .secretKeyUnavailable)
        #expect(error?.context["reason"] == "key-mismatch")
        #expect(error?.message.contains("same key") == true, "the message says what to do: \(String(describing: error))")
        #expect(try await server.psql(database: database, "SELECT to_regclass('test_marker') IS NULL") == "t\n", "the pending migration ran")
        #expect(try await server.psql(database: database, "SELECT encode(sealed, 'hex') FROM store_key_check") == checkBefore)

        // The right key applies the same pending migration.
        try await withStore(server.settings(database: database), migrations: PostgreSQLSchemaMigrations.all + [Self.marker]) { store in
            try await store.prepare()
        }
        #expect(try await server.psql(database: database, "SELECT to_regclass('test_marker') IS NULL") == "f\n")
    }

    @Test func aDatabaseFromANewerTenantsyncIsRefusedUnchanged() async throws {
        let server = try await PostgreSQLServer.shared()
        let database = try await server.createDatabase()
        try await withStore(server.settings(database: database)) { store in try await store.prepare() }
        let future = PostgreSQLSchemaMigrations.latestVersion + 50
        _ = try await server.psql(database: database, "INSERT INTO schema_migrations VALUES (\(future), 'future.sql', now())")
        let error = await #expect(throws: TenantSyncError.self) {
            try await withStore(server.settings(database: database), migrations: PostgreSQLSchemaMigrations.all + [Self.marker]) { store in
                try await store.prepare()
            }
        }
        #expect(error?.code == .schemaTooNew)
        #expect(error?.context["schema.found"] == "\(future)")
        #expect(try await server.psql(database: database, "SELECT to_regclass('test_marker') IS NULL") == "t\n")
    }

    @Test func aDatabaseOfAnotherProgramIsNotTouched() async throws {
        let server = try await PostgreSQLServer.shared()
        let database = try await server.createDatabase()
        _ = try await server.psql(database: database, "CREATE TABLE invoices (id integer)")
        let error = await #expect(throws: TenantSyncError.self) {
            try await withStore(server.settings(database: database)) { store in try await store.prepare() }
        }
        #expect(error?.context["reason"] == "foreign-database")
        #expect(try await server.psql(database: database, "SELECT to_regclass('tenants') IS NULL") == "t\n")
    }

    @Test func anUnreachableServerGivesOneLineNamingHostPortAndCause() async throws {
        let server = try await PostgreSQLServer.shared()
        var settings = server.settings(database: "postgres")
        settings.port = try freeLoopbackPort()
        let error = await #expect(throws: TenantSyncError.self) {
            try await withStore(settings) { store in try await store.prepare() }
        }
        #expect(error?.code == .storeUnavailable)
        #expect(error?.context["reason"] == "unreachable")
        let message = error?.message ?? ""
        #expect(message.hasPrefix("Cannot connect to PostgreSQL at 127.0.0.1:\(settings.port) "), "names host:port: \(message)")
        #expect(message.lowercased().contains("refused"), "names the cause: \(message)")
        #expect(!message.contains("\n"))
    }

    @Test func aWrongPasswordIsNamedWithoutThePassword() async throws {
        let server = try await PostgreSQLServer.shared()
        let wrong = "not-the-password-\(UInt32.random(in: 0...UInt32.max))"
        let error = await #expect(throws: TenantSyncError.self) {
            try await withStore(server.settings(database: "postgres", password: wrong)) { store in try await store.prepare() }
        }
        #expect(error?.context["reason"] == "refused", "a refused login is not an unreachable server: \(String(describing: error))")
        #expect(error?.context["sqlstate"] == "28P01")
        let text = String(describing: error)
        #expect(text.contains("password authentication failed"), "names the cause: \(text)")
        #expect(!text.contains(wrong) && !text.contains(server.password), "no password in the error: \(text)")
    }
}
