import Foundation
import Logging
import PostgresNIO
import TenantSyncCore

/// The copy of an SQLite state into an empty database (`tenantsyncd --migrate-to-postgresql`).
///
/// This store reads ``StoreTableSnapshot``s and never the SQLite file: the adapters do not import each other; the
/// daemon's composition root hands one's snapshots to the other. `Migrations/postgresql/0001_initial.sql` is the SQLite
/// schema after its migrations 0001–0010 under the same table and column names, so a row is copied by column name:
/// PostgreSQL reads each JSON value with the column's own type (ISO 8601 text into `timestamptz`, `0`/`1` into
/// `boolean`, bytea hex into `bytea`). Sealed secrets are copied as they are: both stores bind them to the same place
/// strings, which the copy checks by opening every one before it commits.
extension PostgreSQLStore {
    /// The tables a copy fills, parents before children so that every foreign key holds at each insert.
    public static let importedTables = [
        "tenants", "service_accounts", "grants", "token_sets", "incidents", "selected_targets", "directory_users",
        "directory_groups", "group_members", "delta_links", "sync_runs", "held_removals", "held_delta_links", "alerts",
        "alert_deliveries", "credential_expiries",
    ]

    /// SQLite tables a copy leaves behind: each store keeps its own schema history, the write probe is rewritten at
    /// every check, and a pending device-code consent lives 15 minutes (a provisioning continued after the move shows
    /// a new code). (The tables only PostgreSQL has — the key check value, nodes, leases — are not in the source.)
    public static let tablesNotImported: Set<String> = ["schema_migrations", "store_write_probe", "consent_sessions"]

    /// What a copy wrote into one table.
    public struct ImportedTable: Sendable, Equatable {
        public var table: String
        public var rows: Int
        /// The id the table's identity sequence hands out next; `nil` for a table without one.
        public var nextID: Int64?
    }

    /// What a copy wrote, once it is committed.
    public struct StateImport: Sendable {
        public var tables: [ImportedTable]
        /// Sealed secrets read back from this database and opened at this store's places.
        public var secretsOpened: Int
    }

    /// Copies every table of ``importedTables`` from `snapshot` into this (empty) database in one transaction, then
    /// advances every identity sequence past the copied ids, checks each table's row count and opens every sealed
    /// secret; commits only when all of that holds.
    ///
    /// - Parameter snapshot: reads one table of the source, by name; called once per table, inside the transaction.
    /// - Throws: `TenantSyncError` `storeUnavailable` with context `reason`: `target-not-empty` (naming the tables
    ///   holding rows), `schema-mismatch` (a source column this schema lacks), `verification` (a count or a secret
    ///   that does not match); nothing is written then.
    public func importState(_ snapshot: @Sendable (String) async throws -> StoreTableSnapshot) async throws -> StateImport {
        let endpoint = settings.endpoint
        let database = settings.database
        return try await durableTransaction { connection in
            // No daemon writes while the copy runs; one holding rows for long makes the copy give up rather than wait.
            try await connection.query("SET LOCAL lock_timeout = '30s'", logger: logger)
            let tableList = Self.importedTables.map(Self.quotedName).joined(separator: ", ")
            try await connection.query("LOCK TABLE \(unescaped: tableList) IN EXCLUSIVE MODE", logger: logger)

            var occupied: [String] = []
            for table in Self.importedTables {
                let rows = try await Self.rowCount(connection, table, logger: logger)
                if rows > 0 { occupied.append("\(table) (\(rows) row\(rows == 1 ? "" : "s"))") }
            }
            guard occupied.isEmpty else {
                throw TenantSyncError(
                    .storeUnavailable,
                    "The PostgreSQL database \(database) at \(endpoint) is not empty: it holds \(occupied.joined(separator: ", ")). "
                        + "The state is copied only into a database without data; create a new database for it. Nothing was written.",
                    context: ["reason": "target-not-empty", "store.endpoint": endpoint]
                )
            }

            var imported: [ImportedTable] = []
            for table in Self.importedTables {
                let source = try await snapshot(table)
                let targetColumns = try await Self.columnNames(connection, table, logger: logger)
                let missing = source.columns.filter { !targetColumns.contains($0) }
                guard missing.isEmpty else {
                    throw TenantSyncError(
                        .storeUnavailable,
                        "The SQLite table \(table) has columns this PostgreSQL schema lacks (\(missing.joined(separator: ", "))): "
                            + "the state was written by a newer tenantsync. Nothing was written.",
                        context: ["reason": "schema-mismatch", "table": table]
                    )
                }
                let columns = source.columns.map(Self.quotedName).joined(separator: ", ")
                let name = Self.quotedName(table)
                for batch in source.batches {
                    try await connection.query(
                        "INSERT INTO \(unescaped: name) (\(unescaped: columns)) SELECT \(unescaped: columns) FROM jsonb_populate_recordset(NULL::\(unescaped: name), \(batch)::jsonb)",
                        logger: logger
                    )
                }
                let nextID = try await Self.advanceIdentity(connection, table, pastIssued: source.highestIssuedID ?? 0, logger: logger)
                let copied = try await Self.rowCount(connection, table, logger: logger)
                guard copied == source.rowCount else {
                    throw TenantSyncError(
                        .storeUnavailable,
                        "The copy of \(table) holds \(copied) rows where the SQLite state has \(source.rowCount); rolled back, nothing was written.",
                        context: ["reason": "verification", "table": table]
                    )
                }
                imported.append(ImportedTable(table: table, rows: copied, nextID: nextID))
            }
            let opened = try await openEverySecret(connection)
            return StateImport(tables: imported, secretsOpened: opened)
        }
    }

    /// Sets the identity sequence of `table` (if it has one) past both its highest copied id and the highest id the
    /// source ever issued; returns the id it hands out next.
    private static func advanceIdentity(_ connection: PostgresConnection, _ table: String, pastIssued issued: Int64, logger: Logger) async throws -> Int64? {
        var identity: String?
        for try await column in try await connection.query(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = \(table)::regclass AND attidentity <> '' AND NOT attisdropped",
            logger: logger
        ).decode(String.self) {
            identity = column
        }
        guard let identity else { return nil }
        let highestCopied = try await one(
            connection.query("SELECT coalesce(max(\(unescaped: quotedName(identity))), 0)::bigint FROM \(unescaped: quotedName(table))", logger: logger),
            Int64.self
        ) ?? 0
        let last = max(highestCopied, issued)
        guard last > 0 else { return 1 }
        try await connection.query("SELECT setval(pg_get_serial_sequence(\(table), \(identity)), \(last))", logger: logger)
        return last + 1
    }

    /// Reads every sealed secret back from this database and opens it at this store's place for it.
    private func openEverySecret(_ connection: PostgresConnection) async throws -> Int {
        var opened = 0
        var failing: [String] = []
        func check(_ sealed: Data?, _ place: String) {
            guard let sealed else { return }
            if (try? sealer.open(sealed, boundTo: place)) == nil { failing.append(place) } else { opened += 1 }
        }
        for try await (grantID, access, refresh) in try await connection.query(
            "SELECT grant_id, access_token_sealed, refresh_token_sealed FROM token_sets", logger: logger
        ).decode((Int64, Data, Data?).self) {
            check(access, Self.tokenPlace(grantID, "access"))
            check(refresh, Self.tokenPlace(grantID, "refresh"))
        }
        for try await (accountID, secret, key) in try await connection.query(
            "SELECT id, client_secret_sealed, client_key_sealed FROM service_accounts", logger: logger
        ).decode((Int64, Data?, Data?).self) {
            check(secret, Self.clientSecretPlace(accountID))
            check(key, Self.clientKeyPlace(accountID))
        }
        guard failing.isEmpty else {
            throw TenantSyncError(
                .storeUnavailable,
                "\(failing.count) copied sealed secrets do not open in PostgreSQL (the first at \(failing[0])); rolled back, nothing was written.",
                context: ["reason": "verification"]
            )
        }
        return opened
    }

    private static func rowCount(_ connection: PostgresConnection, _ table: String, logger: Logger) async throws -> Int {
        try await one(connection.query("SELECT count(*) FROM \(unescaped: quotedName(table))", logger: logger), Int.self) ?? 0
    }

    private static func columnNames(_ connection: PostgresConnection, _ table: String, logger: Logger) async throws -> Set<String> {
        var names: Set<String> = []
        for try await name in try await connection.query(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = \(table)::regclass AND attnum > 0 AND NOT attisdropped",
            logger: logger
        ).decode(String.self) {
            names.insert(name)
        }
        return names
    }

    static func quotedName(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
