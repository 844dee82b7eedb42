import Credentials
import Foundation
import GRDB
import Logging
import Migrations
import TenantSyncCore

/// The embedded state store: one SQLite database in WAL mode.
///
/// The only type in tenantsync that speaks SQL. It implements the storage
/// protocols of `TenantSyncCore`; secrets are sealed with a ``SecretSealer``
/// before they reach SQLite.
public final class SQLiteStore: Sendable {
    /// The database file name inside the state directory.
    public static let fileName = "tenantsync.sqlite"

    /// Page cache of the writer connection, in KiB.
    static let writerCacheKiB = 16 * 1024

    /// Async access only (see ``AsyncDatabasePool``); `pool.blocking` for start-up and shutdown.
    let pool: AsyncDatabasePool
    let sealer: SecretSealer
    public let path: String
    /// Every statement executed and row returned, for tests and the fleet benchmark to measure the cost of a call.
    public let statements: StatementCounter

    /// Opens (creating if needed) the database and brings its schema up to date.
    ///
    /// - Throws: `TenantSyncError` with code `storeUnavailable` when the file cannot be
    ///   opened or is not a tenantsync database, `schemaTooNew` when a newer tenantsync
    ///   wrote it (the file is then left untouched).
    public init(path: String, sealer: SecretSealer, busyTimeout: Duration = .seconds(5), logger: Logger) throws {
        self.path = path
        self.sealer = sealer
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout.secondsValue)
        configuration.foreignKeysEnabled = true
        let statements = StatementCounter()
        self.statements = statements
        configuration.prepareDatabase { db in
            statements.install(on: db.sqliteConnection)
            // Deleted rows (wiped tokens) are overwritten with zeros, not left in free pages.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // The writer's page cache holds the directory indexes a sync inserts into at random
            // (GUID keys): with SQLite's default 2 MiB, most inserts re-read a page through the
            // kernel. Readers keep the default; their queries are short.
            if !db.configuration.readonly {
                try db.execute(sql: "PRAGMA cache_size = -\(SQLiteStore.writerCacheKiB)")
            }
        }
        try SchemaMigrator.inspectExisting(path: path, latest: SchemaMigrations.latestVersion)
        let database: DatabasePool
        do {
            database = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw TenantSyncError(.storeUnavailable, "Cannot open the state database \(path): \(Self.describe(error)).")
        }
        try Self.requireSoundPages(database, path: path)
        pool = AsyncDatabasePool(blocking: database)
        try SchemaMigrator(pool: database, path: path, logger: logger).migrate()
    }

    /// Refuses a database whose pages are damaged, before a migration or a sync writes over them.
    ///
    /// `quick_check` reads every page (not the index-to-table cross checks of `integrity_check`),
    /// so start-up stays fast on a large directory while a torn or overwritten page is caught here
    /// rather than as a random SQLITE_CORRUPT in the middle of a token refresh.
    static func requireSoundPages(_ database: DatabasePool, path: String) throws {
        let findings: [String]
        do {
            findings = try database.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check(5)") }
        } catch {
            throw corrupt(path: path, finding: describe(error))
        }
        guard findings == ["ok"] else { throw corrupt(path: path, finding: findings.first ?? "no answer") }
    }

    private static func corrupt(path: String, finding: String) -> TenantSyncError {
        // One line: it becomes the daemon's exit message and systemd's status text.
        let oneLine = finding.split(whereSeparator: \.isNewline).joined(separator: " ").prefix(200)
        return TenantSyncError(
            .storeUnavailable,
            "The state database \(path) is corrupt (quick_check: \(oneLine)); stop the daemon, move the file aside and restore it from a backup (without one, the accounts must be provisioned again).",
            context: ["reason": "corrupt", "store.path": path]
        )
    }

    /// The schema version recorded in the database.
    public func schemaVersion() throws -> Int {
        try pool.blocking.read { db in try SchemaMigrator.appliedVersions(db).max() ?? 0 }
    }

    /// Runs SQLite's own consistency check; `["ok"]` when the file is sound.
    public func integrityCheck() throws -> [String] {
        try pool.blocking.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }

    /// Answers when the database answers; used by the watchdog's health check.
    public func ping() async throws {
        _ = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// Commits a one-row write: throws when the database cannot persist (disk full, read-only, I/O error).
    ///
    /// A committed write, not a rolled-back one: in WAL mode nothing reaches the disk before the commit,
    /// so only a commit proves that the next token set could be stored.
    public func probeWrite(at date: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO store_write_probe (id, probed_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at",
                arguments: [Timestamp.text(date)]
            )
        }
    }

    /// Checkpoints the WAL into the main file and closes the database.
    public func close() throws {
        try pool.blocking.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        try pool.blocking.close()
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return error.message.map { "\($0) (SQLite code \(error.resultCode.rawValue))" } ?? "SQLite code \(error.resultCode.rawValue)"
        }
        return String(describing: error)
    }
}
