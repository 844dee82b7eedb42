import Credentials
import Foundation
import Logging
import Migrations
import PostgresNIO
import PostgreSQLMigrations
import TenantSyncCore

/// Brings a database's schema up to date and checks the sealing key, on one connection, under an advisory lock.
///
/// Several daemons starting together on one database queue on the lock: the first applies each migration (each in
/// one transaction, recorded in `schema_migrations`), the others find it applied. The key is checked before the
/// first write: a daemon whose key does not open the check value changes nothing.
struct PostgreSQLMigrator {
    let connection: PostgresConnection
    let sealer: SecretSealer
    let settings: PostgreSQLStoreSettings
    let logger: Logger
    let migrations: [SchemaMigration]

    /// The advisory lock every tenantsync node takes to migrate (the bytes of "tsmigrat").
    static let lockKey: Int64 = 0x7473_6D69_6772_6174
    /// Where the check value is bound, as the SQLite store binds its secrets (table:row:column).
    static let checkPlace = "store_key_check:1:sealed"
    /// The clear value sealed as the check; not a secret (only the key is).
    static let checkValue = "tenantsync store key check, format 1"

    func migrateAndCheckKey() async throws {
        try await run("SELECT pg_advisory_lock(\(Self.lockKey))")
        let applied = try await appliedVersions()
        let latest = migrations.last?.version ?? 0
        if let newest = applied.max(), newest > latest {
            throw TenantSyncError(
                .schemaTooNew,
                "The PostgreSQL database \(settings.database) at \(settings.endpoint) has schema version \(newest), newer than this tenantsyncd knows (\(latest)). "
                    + "A newer tenantsync wrote it; run that version on every node. The database was not changed.",
                context: ["schema.found": "\(newest)", "schema.known": "\(latest)", "store.endpoint": settings.endpoint]
            )
        }
        if applied.isEmpty, try await hasForeignTables() {
            throw TenantSyncError(
                .storeUnavailable,
                "The PostgreSQL database \(settings.database) at \(settings.endpoint) has tables but no tenantsync schema_migrations; refusing to touch it. Point [database] url at an empty database.",
                context: ["reason": "foreign-database", "store.endpoint": settings.endpoint]
            )
        }
        // Before any write: a node with another key must not migrate or seal anything into this database.
        if let sealed = try await storedCheck() { try verify(sealed) }
        let appliedSet = Set(applied)
        for migration in migrations where !appliedSet.contains(migration.version) {
            try await apply(migration)
        }
        if try await storedCheck() == nil {
            let sealed = try sealer.seal(Secret(Self.checkValue), boundTo: Self.checkPlace)
            try await run("INSERT INTO store_key_check (id, sealed, created_at) VALUES (1, \(sealed), now()) ON CONFLICT (id) DO NOTHING")
            logger.notice("Stored the sealing key's check value in a new database", metadata: ["store.endpoint": "\(settings.endpoint)"])
        }
        guard let stored = try await storedCheck() else {
            throw TenantSyncError(.storeUnavailable, "The sealing key's check value vanished right after it was stored.")
        }
        try verify(stored)
        try await run("SELECT pg_advisory_unlock(\(Self.lockKey))")
    }

    private func apply(_ migration: SchemaMigration) async throws {
        do {
            try await raw("BEGIN")
            try await raw("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)
                """)
            for statement in SQLScript.statements(migration.sql) {
                try await raw(PostgresQuery(unsafeSQL: statement))
            }
            try await raw("INSERT INTO schema_migrations (version, name, applied_at) VALUES (\(migration.version), \(migration.fileName), now())")
            try await raw("COMMIT")
        } catch {
            _ = try? await raw("ROLLBACK")
            throw TenantSyncError(
                .storeUnavailable,
                "PostgreSQL migration \(migration.fileName) failed and was rolled back: \(PostgreSQLErrorText.describe(error)).",
                context: ["reason": "migration", "store.endpoint": settings.endpoint]
            )
        }
        logger.info("Applied schema migration", metadata: ["schema.version": "\(migration.version)", "schema.file": "\(migration.fileName)"])
    }

    private func verify(_ sealed: Data) throws {
        let opened: Secret
        do {
            opened = try sealer.open(sealed, boundTo: Self.checkPlace)
        } catch {
            throw keyMismatch()
        }
        guard opened.reveal == Self.checkValue else { throw keyMismatch() }
    }

    private func keyMismatch() -> TenantSyncError {
        TenantSyncError(
            .secretKeyUnavailable,
            "The sealing key does not open the check value of the PostgreSQL database \(settings.database) at \(settings.endpoint): "
                + "this node has another key than the nodes that wrote it. Give every node the same key credential; nothing was written.",
            context: ["reason": "key-mismatch", "store.endpoint": settings.endpoint]
        )
    }

    private func appliedVersions() async throws -> [Int] {
        guard try await tableExists("schema_migrations") else { return [] }
        var versions: [Int] = []
        for try await version in try await query("SELECT version FROM schema_migrations ORDER BY version").decode(Int.self) {
            versions.append(version)
        }
        return versions
    }

    private func storedCheck() async throws -> Data? {
        guard try await tableExists("store_key_check") else { return nil }
        for try await sealed in try await query("SELECT sealed FROM store_key_check WHERE id = 1").decode(Data.self) {
            return sealed
        }
        return nil
    }

    private func hasForeignTables() async throws -> Bool {
        for try await count in try await query(
            "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
        ).decode(Int.self) {
            return count > 0
        }
        return false
    }

    private func tableExists(_ name: String) async throws -> Bool {
        for try await exists in try await query("SELECT to_regclass(\(name)) IS NOT NULL").decode(Bool.self) {
            return exists
        }
        return false
    }

    private func query(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        do {
            return try await connection.query(query, logger: logger)
        } catch {
            throw TenantSyncError(
                .storeUnavailable, "PostgreSQL at \(settings.endpoint) failed while preparing the store: \(PostgreSQLErrorText.describe(error)).",
                context: ["reason": "unreachable", "store.endpoint": settings.endpoint]
            )
        }
    }

    private func run(_ statement: PostgresQuery) async throws {
        _ = try await query(statement)
    }

    /// A statement whose error the caller describes itself.
    private func raw(_ statement: PostgresQuery) async throws {
        _ = try await connection.query(statement, logger: logger)
    }
}
