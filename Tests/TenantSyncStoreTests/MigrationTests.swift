import Credentials
import Foundation
import GRDB
import Logging
import Migrations
import Testing
@testable import TenantSyncStore
import TenantSyncCore

@Suite("Schema migrations")
struct MigrationTests {
    @Test func emptyDatabaseMigratesToLatestWithIntegrity() throws {
        let fixture = try StoreFixture()
        #expect(try fixture.store.schemaVersion() == SchemaMigrations.latestVersion)
        #expect(try fixture.store.integrityCheck() == ["ok"])
        let names = try fixture.store.pool.blocking.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM schema_migrations ORDER BY version")
        }
        #expect(names == SchemaMigrations.all.map(\.fileName))
    }

    @Test func databaseIsInWALModeWithSecureDelete() throws {
        let fixture = try StoreFixture()
        let (mode, secureDelete) = try fixture.store.pool.blocking.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA secure_delete"))
        }
        #expect(mode == "wal")
        #expect(secureDelete == 1)
    }

    /// Every earlier schema version upgrades to the latest, keeping its rows.
    @Test func everyEarlierVersionUpgradesToLatest() async throws {
        for stop in 1...SchemaMigrations.latestVersion {
            let directory = try TemporaryDirectory()
            let path = directory.file("db.sqlite")
            try await OldDatabase.create(at: path, migratedTo: stop)
            let store = try SQLiteStore(path: path, sealer: SecretSealer(keyBytes: StoreFixture.key), logger: Logger(label: "test"))
            #expect(try store.schemaVersion() == SchemaMigrations.latestVersion, "upgrade from version \(stop)")
            #expect(try await store.tenant(idOrDomain: "old.example")?.id == "00000000-0000-0000-0000-000000000001")
            #expect(try store.integrityCheck() == ["ok"])
        }
    }

    @Test func reopeningAppliesNothingTwice() throws {
        let fixture = try StoreFixture()
        try fixture.store.close()
        let again = try SQLiteStore(path: fixture.databasePath, sealer: SecretSealer(keyBytes: StoreFixture.key), logger: Logger(label: "test"))
        let count = try again.pool.blocking.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM schema_migrations") }
        #expect(count == SchemaMigrations.all.count)
    }

    @Test func newerSchemaIsRefusedAndLeftUntouched() throws {
        let fixture = try StoreFixture()
        try fixture.store.pool.blocking.write { db in
            try db.execute(sql: "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 'x')")
        }
        try fixture.store.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: fixture.databasePath))
        let error = #expect(throws: TenantSyncError.self) {
            try SQLiteStore(path: fixture.databasePath, sealer: SecretSealer(keyBytes: StoreFixture.key), logger: Logger(label: "test"))
        }
        #expect(error?.code == .schemaTooNew)
        #expect(error?.message.contains("9999") == true, "the message should name the version found: \(String(describing: error))")
        let after = try Data(contentsOf: URL(fileURLWithPath: fixture.databasePath))
        #expect(before == after, "a database from a newer schema must not be modified")
    }

    @Test func foreignDatabaseIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("other.sqlite")
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: "CREATE TABLE something (x)") }
        try queue.close()
        let error = #expect(throws: TenantSyncError.self) {
            try SQLiteStore(path: path, sealer: SecretSealer(keyBytes: StoreFixture.key), logger: Logger(label: "test"))
        }
        #expect(error?.code == .storeUnavailable)
    }

    @Test func corruptFileIsRefusedWithOneClearError() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("corrupt.sqlite")
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: TenantSyncError.self) {
            try SQLiteStore(path: path, sealer: SecretSealer(keyBytes: StoreFixture.key), logger: Logger(label: "test"))
        }
        #expect(error?.code == .storeUnavailable)
        #expect(error?.message.contains(path) == true)
    }

    /// A page damaged after the file was written (a torn write, a bad disk) is caught at open,
    /// before a migration or a sync writes next to it: one line naming the file and what to do.
    @Test func damagedTablePageIsRefusedAtOpenAsCorrupt() async throws {
        let fixture = try StoreFixture()
        _ = try await fixture.seedExchangeAccount()
        try fixture.store.close()
        try overwriteRootPage(ofTable: "tenants", in: fixture.databasePath)

        let error = #expect(throws: TenantSyncError.self, "a store with a damaged page must not open") {
            try SQLiteStore(path: fixture.databasePath, sealer: SecretSealer(keyBytes: StoreFixture.key), logger: Logger(label: "test"))
        }
        #expect(error?.code == .storeUnavailable)
        #expect(error?.context["reason"] == "corrupt", "the daemon maps this to exit 74: \(String(describing: error))")
        #expect(error?.message.contains("\(fixture.databasePath) is corrupt") == true, "got: \(String(describing: error?.message))")
        #expect(error?.message.contains("restore it from a backup") == true, "the message must say what to do")
        #expect(error?.message.contains("\n") == false, "one line")
    }

    /// Package.swift's resources, SchemaMigrations.all and the files in Migrations/ must agree.
    @Test func embeddedMigrationsMatchTheFilesOnDisk() throws {
        let migrationsDirectory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: migrationsDirectory.path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files == SchemaMigrations.all.map(\.fileName))
        for migration in SchemaMigrations.all {
            let text = try String(contentsOf: migrationsDirectory.appendingPathComponent(migration.fileName), encoding: .utf8)
            #expect(text == migration.sql, "\(migration.fileName) embedded text differs from the file")
        }
        #expect(SchemaMigrations.all.map(\.version) == Array(1...SchemaMigrations.all.count), "versions must be 1, 2, 3, ... in order")
    }
}

/// Overwrites the root page of `table` with garbage, leaving the header and the schema page intact.
func overwriteRootPage(ofTable table: String, in path: String) throws {
    let queue = try DatabaseQueue(path: path)
    let (rootPage, pageSize) = try queue.read { db in
        (
            try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = ?", arguments: [table]) ?? 0,
            try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
        )
    }
    try queue.close()
    precondition(rootPage > 1, "table \(table) has no root page of its own")
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try handle.seek(toOffset: UInt64((rootPage - 1) * pageSize))
    try handle.write(contentsOf: Data(repeating: 0xA5, count: pageSize))
}
