import Credentials
import Foundation
import GRDB
import Logging
import Migrations
import Testing
@testable import TenantSyncStore
import TenantSyncCore

/// An upgrade never loses the old database: a copy is taken before a migration changes it.
@Suite("Copy before migrating")
struct MigrationCopyTests {
    @Test("an upgrade keeps a complete copy of the old database, at the old schema version, mode 0600")
    func upgradeKeepsACopyOfTheOldSchema() async throws {
        let old = SchemaMigrations.latestVersion - 1
        let directory = try TemporaryDirectory()
        let path = directory.file("tenantsync.sqlite")
        try await OldDatabase.create(at: path, migratedTo: old)

        let store = try SQLiteStore(path: path, sealer: SecretSealer(keyBytes: StoreFixture.key), logger: Logger(label: "test"))
        #expect(try store.schemaVersion() == SchemaMigrations.latestVersion)
        try store.close()

        let copy = SchemaMigrator.copyPath(path, schemaVersion: old)
        #expect(copy == path + ".schema-" + String(format: "%04d", old) + ".bak")
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int)
        #expect(mode == 0o600, "the copy holds sealed secrets; its mode is \(String(mode, radix: 8))")
        var readOnly = Configuration()
        readOnly.readonly = true
        let queue = try DatabaseQueue(path: copy, configuration: readOnly)
        defer { try? queue.close() }
        let (versions, domain, integrity) = try await queue.read { db in
            (
                try SchemaMigrator.appliedVersions(db),
                try String.fetchOne(db, sql: "SELECT domain FROM tenants"),
                try String.fetchOne(db, sql: "PRAGMA integrity_check")
            )
        }
        #expect(versions.max() == old, "the copy must hold the schema from before the upgrade")
        #expect(domain == "old.example")
        #expect(integrity == "ok")
        #expect(!FileManager.default.fileExists(atPath: copy + ".partial"))
    }

    @Test("a new database and an up-to-date one are not copied")
    func nothingToMigrateMeansNoCopy() throws {
        let fixture = try StoreFixture()
        try fixture.store.close()
        _ = try SQLiteStore(path: fixture.databasePath, sealer: SecretSealer(keyBytes: StoreFixture.key), logger: Logger(label: "test"))
        let directory = (fixture.databasePath as NSString).deletingLastPathComponent
        let copies = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.contains(".schema-") }
        #expect(copies.isEmpty, "unexpected copies: \(copies)")
    }

    @Test("when the copy cannot be written the migration does not run and the database is unchanged")
    func noCopyNoMigration() async throws {
        let old = SchemaMigrations.latestVersion - 1
        let directory = try TemporaryDirectory()
        let path = directory.file("tenantsync.sqlite")
        try await OldDatabase.create(at: path, migratedTo: old)
        // A directory where the copy's temporary file would go: VACUUM INTO cannot write it.
        let copy = SchemaMigrator.copyPath(path, schemaVersion: old)
        try FileManager.default.createDirectory(atPath: copy + ".partial/blocker", withIntermediateDirectories: true)

        #expect {
            _ = try SQLiteStore(path: path, sealer: SecretSealer(keyBytes: StoreFixture.key), logger: Logger(label: "test"))
        } throws: { error in
            guard let error = error as? TenantSyncError else { return false }
            return error.code == .storeUnavailable && error.message.contains("before migrating it") && error.message.contains("was not changed")
        }
        let pool = try DatabasePool(path: path)
        defer { try? pool.close() }
        let version = try await pool.read { db in try SchemaMigrator.appliedVersions(db).max() }
        #expect(version == old)
    }
}
