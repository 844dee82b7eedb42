import Foundation
import GRDB
import Logging
import Migrations
import TenantSyncCore

/// Applies the embedded SQL migrations in order, each in one transaction.
struct SchemaMigrator {
    let pool: DatabasePool
    let path: String
    let logger: Logger
    var migrations: [SchemaMigration] = SchemaMigrations.all

    static func appliedVersions(_ db: Database) throws -> [Int] {
        guard try db.tableExists("schema_migrations") else { return [] }
        return try Int.fetchAll(db, sql: "SELECT version FROM schema_migrations ORDER BY version")
    }

    /// Checks an existing file through a read-only connection before anything opens it for writing,
    /// so that a database from a newer tenantsync (or another program) is never modified.
    static func inspectExisting(path: String, latest: Int) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        var configuration = Configuration()
        configuration.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            try queue.read { db in try check(db, path: path, latest: latest) }
        } catch let error as TenantSyncError {
            throw error
        } catch {
            throw TenantSyncError(.storeUnavailable, "Cannot read the state database \(path): \(SQLiteStore.describe(error)).")
        }
    }

    /// Refuses a foreign database or one with a newer schema.
    static func check(_ db: Database, path: String, latest: Int) throws {
        let versions = try appliedVersions(db)
        if versions.isEmpty {
            let tables = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ) ?? 0
            if tables > 0 {
                throw TenantSyncError(
                    .storeUnavailable,
                    "\(path) is a SQLite database but not a tenantsync one (no schema_migrations table); refusing to touch it."
                )
            }
        }
        if let newest = versions.max(), newest > latest {
            throw TenantSyncError(
                .schemaTooNew,
                "The state database \(path) has schema version \(newest), newer than this tenantsyncd knows (\(latest)). "
                    + "A newer tenantsync wrote it; run that version or restore a backup. The file was not changed.",
                context: ["schema.found": "\(newest)", "schema.known": "\(latest)"]
            )
        }
    }

    /// Where the copy of a database at `schemaVersion` is kept, beside the database.
    static func copyPath(_ path: String, schemaVersion: Int) -> String {
        path + ".schema-" + String(format: "%04d", schemaVersion) + ".bak"
    }

    /// Writes a consistent copy of the database (`VACUUM INTO`, which reads one snapshot) to
    /// ``copyPath(_:schemaVersion:)``, mode 0600 (it holds sealed secrets), replacing an older
    /// copy of the same schema version only once the new one is complete.
    func copyBeforeMigrating(schemaVersion: Int) throws {
        let destination = Self.copyPath(path, schemaVersion: schemaVersion)
        let partial = destination + ".partial"
        do {
            // A leftover of a copy interrupted earlier; unlink(2), not a recursive removal.
            unlink(partial)
            try pool.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [partial]) }
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: partial)
            guard rename(partial, destination) == 0 else {
                throw TenantSyncError(.storeUnavailable, "rename failed: \(String(cString: strerror(errno)))")
            }
        } catch {
            unlink(partial)
            throw TenantSyncError(
                .storeUnavailable,
                "Cannot copy the state database \(path) to \(destination) before migrating it: \((error as? TenantSyncError)?.message ?? SQLiteStore.describe(error)). "
                    + "The database was not changed; make room (or fix the permissions) in its directory and start again.",
                context: ["file": path, "store.copy": destination]
            )
        }
        logger.notice(
            "Copied the state database before migrating it",
            metadata: ["schema.version": "\(schemaVersion)", "store.copy": "\(destination)"]
        )
    }

    func migrate() throws {
        let latest = migrations.last?.version ?? 0
        let applied: [Int]
        do {
            applied = try pool.read { db -> [Int] in
                try Self.check(db, path: path, latest: latest)
                return try Self.appliedVersions(db)
            }
        } catch let error as TenantSyncError {
            throw error
        } catch {
            throw TenantSyncError(.storeUnavailable, "Cannot read the state database \(path): \(SQLiteStore.describe(error)).")
        }
        let appliedSet = Set(applied)
        let pending = migrations.filter { !appliedSet.contains($0.version) }
        // A new database has nothing to lose; an existing one is copied before the first
        // migration changes it, so that an upgrade that goes wrong can be undone by
        // putting the copy back under an older tenantsyncd.
        if let current = applied.max(), !pending.isEmpty {
            try copyBeforeMigrating(schemaVersion: current)
        }
        for migration in pending {
            do {
                try pool.writeWithoutTransaction { db in
                    try db.inTransaction(.immediate) {
                        try db.execute(sql: """
                            CREATE TABLE IF NOT EXISTS schema_migrations (
                                version INTEGER PRIMARY KEY NOT NULL,
                                name TEXT NOT NULL,
                                applied_at TEXT NOT NULL
                            )
                            """)
                        try db.execute(sql: migration.sql)
                        try db.execute(
                            sql: "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                            arguments: [migration.version, migration.fileName, Timestamp.text(.now)]
                        )
                        return .commit
                    }
                }
            } catch {
                throw TenantSyncError(
                    .storeUnavailable,
                    "Migration \(migration.fileName) failed and was rolled back: \(SQLiteStore.describe(error)).",
                    context: ["file": path]
                )
            }
            logger.info("Applied schema migration", metadata: ["schema.version": "\(migration.version)", "schema.file": "\(migration.fileName)"])
        }
    }
}
