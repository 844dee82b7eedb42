import Foundation
import PostgresNIO
import TenantSyncCore

/// The synchronized directory, its delta links, selected targets and sync runs, with the SQLite store's semantics
/// (`Sources/TenantSyncStore/SQLiteStore+Directory.swift`). The batch write is in `+DirectoryBatch.swift`, holds
/// and the scheduler's read in `+SyncHolds.swift`, the operator's reads in `+DirectorySummary.swift`.
extension PostgreSQLStore: DirectoryStore {
    public func applyDirectoryBatch(tenantID: String, batch: DirectoryBatch, at date: Date) async throws -> DirectoryChangeCounts {
        try await transaction { connection in
            try await Self.apply(batch, tenantID: tenantID, at: date, connection: connection, logger: logger)
        }
    }

    public func deltaLink(tenantID: String, resource: String) async throws -> String? {
        try await read { connection in
            try await Self.one(
                connection.query("SELECT link FROM delta_links WHERE tenant_id = \(tenantID) AND resource = \(resource)", logger: logger),
                String.self
            )
        }
    }

    public func clearDeltaLinks(tenantID: String) async throws {
        try await transaction { connection in
            try await connection.query("DELETE FROM delta_links WHERE tenant_id = \(tenantID)", logger: logger)
        }
    }

    public func directoryUser(tenantID: String, userPrincipalName: String) async throws -> DirectoryUser? {
        try await read { connection in
            try await PostgreSQLRows.first(
                connection.query(
                    """
                    SELECT id, user_principal_name, display_name, mail, account_enabled FROM directory_users
                    WHERE tenant_id = \(tenantID) AND lower(user_principal_name) = lower(\(userPrincipalName))
                        AND \(unescaped: Self.asciiCaseInsensitiveUPN) = lower(\(userPrincipalName) COLLATE "C")
                    """,
                    logger: logger
                ),
                Self.directoryUser
            )
        }
    }

    public func memberCounts(tenantID: String, groupIDs: [String]) async throws -> [String: Int] {
        try await read { connection in
            var counts: [String: Int] = [:]
            let rows = try await connection.query(
                """
                SELECT group_id, count(*) FROM group_members
                WHERE tenant_id = \(tenantID) AND group_id = ANY(\(groupIDs)::text[]) GROUP BY group_id
                """,
                logger: logger
            )
            for try await (group, count) in rows.decode((String, Int).self) { counts[group] = count }
            return counts
        }
    }

    public func selectedTargets(tenantID: String) async throws -> [SelectedTarget] {
        try await read { connection in
            try await PostgreSQLRows.all(
                connection.query(
                    """
                    SELECT tenant_id, user_principal_name, user_id, source, added_at FROM selected_targets
                    WHERE tenant_id = \(tenantID) ORDER BY lower(user_principal_name) COLLATE "C"
                    """,
                    logger: logger
                )
            ) { cells in
                SelectedTarget(
                    tenantID: try cells("tenant_id"), userPrincipalName: try cells("user_principal_name"), userID: try cells("user_id"),
                    source: SelectedTarget.Source(rawValue: try cells("source")) ?? .upn, addedAt: try cells.date("added_at")
                )
            }
        }
    }

    /// One statement for all targets. As with the SQLite store's one insert per target, a name given twice
    /// (whatever its case) keeps its first spelling, source and date, and takes the last user id.
    public func addSelectedTargets(_ targets: [SelectedTarget]) async throws {
        guard !targets.isEmpty else { return }
        let rows = targets.enumerated().map { index, target in
            TargetRow(
                n: index, tenant: target.tenantID, upn: target.userPrincipalName, user: target.userID, source: target.source.rawValue,
                added: Int64((StoredDate.bound(target.addedAt).timeIntervalSince1970 * 1000).rounded())
            )
        }
        let json = try Self.json(rows)
        try await transaction { connection in
            try await connection.query(
                """
                WITH input AS (
                    SELECT * FROM jsonb_to_recordset(\(json)::jsonb) AS i(n int, tenant text, upn text, "user" text, source text, added bigint))
                INSERT INTO selected_targets (tenant_id, user_principal_name, user_id, source, added_at)
                SELECT DISTINCT ON (f.tenant, lower(f.upn)) f.tenant, f.upn,
                    (SELECT l."user" FROM input l WHERE l.tenant = f.tenant AND lower(l.upn) = lower(f.upn) ORDER BY l.n DESC LIMIT 1),
                    f.source, to_timestamp(f.added / 1000.0)
                FROM input f ORDER BY f.tenant, lower(f.upn), f.n
                ON CONFLICT (tenant_id, lower(user_principal_name)) DO UPDATE SET user_id = excluded.user_id
                """,
                logger: logger
            )
        }
    }

    public func removeSelectedTargets(tenantID: String, userPrincipalNames: [String]) async throws {
        let lowered = userPrincipalNames.map { $0.lowercased() }
        try await transaction { connection in
            try await connection.query(
                """
                DELETE FROM selected_targets
                WHERE tenant_id = \(tenantID) AND lower(user_principal_name) = ANY(SELECT lower(n) FROM unnest(\(lowered)::text[]) AS n)
                """,
                logger: logger
            )
        }
    }

    public func startSyncRun(tenantID: String, service: ServiceKind?, trigger: SyncTrigger, mode: SyncMode, at date: Date) async throws -> SyncRun {
        try await transaction { connection in
            let rows = try await connection.query(
                """
                INSERT INTO sync_runs (tenant_id, service, trigger, mode, started_at)
                VALUES (\(tenantID), \(service?.rawValue), \(trigger.rawValue), \(mode.rawValue), \(StoredDate.bound(date)))
                RETURNING \(unescaped: Self.runList)
                """,
                logger: logger
            )
            guard let run = try await PostgreSQLRows.first(rows, PostgreSQLRows.syncRun) else {
                throw TenantSyncError(.storeUnavailable, "A sync run vanished right after it was stored.")
            }
            return run
        }
    }

    public func recordSyncProgress(runID: Int64, pages: Int, counts: DirectoryChangeCounts) async throws {
        try await transaction { connection in
            try await connection.query(
                """
                UPDATE sync_runs SET pages = \(pages), users_added = \(counts.usersAdded), users_changed = \(counts.usersChanged),
                    users_removed = \(counts.usersRemoved), groups_added = \(counts.groupsAdded), groups_changed = \(counts.groupsChanged),
                    groups_removed = \(counts.groupsRemoved), memberships_added = \(counts.membershipsAdded),
                    memberships_removed = \(counts.membershipsRemoved)
                WHERE id = \(runID)
                """,
                logger: logger
            )
        }
    }

    public func finishSyncRun(runID: Int64, state: SyncRunState, error: String?, at date: Date) async throws {
        try await transaction { connection in
            try await connection.query(
                "UPDATE sync_runs SET state = \(state.rawValue), error = \(error), finished_at = \(StoredDate.bound(date)) WHERE id = \(runID)",
                logger: logger
            )
        }
    }

    public func syncRun(id: Int64) async throws -> SyncRun? {
        try await read { connection in
            try await PostgreSQLRows.first(
                connection.query("SELECT \(unescaped: Self.runList) FROM sync_runs WHERE id = \(id)", logger: logger), PostgreSQLRows.syncRun
            )
        }
    }

    public func syncRuns(tenantID: String, limit: Int) async throws -> [SyncRun] {
        try await read { connection in
            try await PostgreSQLRows.all(
                connection.query(
                    "SELECT \(unescaped: Self.runList) FROM sync_runs WHERE tenant_id = \(tenantID) ORDER BY id DESC LIMIT \(limit)",
                    logger: logger
                ),
                PostgreSQLRows.syncRun
            )
        }
    }

    public func lastSuccessfulSyncRun(tenantID: String) async throws -> SyncRun? {
        try await read { connection in
            try await PostgreSQLRows.first(
                connection.query(
                    """
                    SELECT \(unescaped: Self.runList) FROM sync_runs WHERE tenant_id = \(tenantID) AND state = 'succeeded'
                    ORDER BY id DESC LIMIT 1
                    """,
                    logger: logger
                ),
                PostgreSQLRows.syncRun
            )
        }
    }

    public func setSyncRunNote(runID: Int64, note: String) async throws {
        try await transaction { connection in
            try await connection.query("UPDATE sync_runs SET note = \(note) WHERE id = \(runID)", logger: logger)
        }
    }

    public func directoryUserIDs(tenantID: String) async throws -> Set<String> {
        try await read { connection in
            var ids = Set<String>()
            let rows = try await connection.query("SELECT id FROM directory_users WHERE tenant_id = \(tenantID)", logger: logger)
            for try await id in rows.decode(String.self) { ids.insert(id) }
            return ids
        }
    }

    /// A delta run's check of the users it read as removed: one index lookup per given id, not the whole directory.
    public func storedUserIDs(tenantID: String, among ids: Set<String>) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return try await read { connection in
            var stored = Set<String>()
            let rows = try await connection.query(
                "SELECT id FROM directory_users WHERE tenant_id = \(tenantID) AND id = ANY(\(Array(ids)))", logger: logger
            )
            for try await id in rows.decode(String.self) { stored.insert(id) }
            return stored
        }
    }

    public func directoryUserCount(tenantID: String) async throws -> Int {
        try await read { connection in
            try await Self.one(connection.query("SELECT count(*) FROM directory_users WHERE tenant_id = \(tenantID)", logger: logger), Int.self) ?? 0
        }
    }

    public func directoryGroupIDs(tenantID: String) async throws -> Set<String> {
        try await read { connection in
            var ids = Set<String>()
            let rows = try await connection.query("SELECT id FROM directory_groups WHERE tenant_id = \(tenantID)", logger: logger)
            for try await id in rows.decode(String.self) { ids.insert(id) }
            return ids
        }
    }

    /// A user principal name folded as the SQLite store's `COLLATE NOCASE` folds it: ASCII letters only (`lower` under
    /// the "C" collation). Compared after `lower(user_principal_name)`, which the index `directory_users_by_upn` serves
    /// and which folds at least as much.
    static let asciiCaseInsensitiveUPN = #"lower(user_principal_name COLLATE "C")"#

    /// The sync run's columns, in a select list.
    static var runList: String { PostgreSQLRows.runColumns.joined(separator: ", ") }

    static func directoryUser(_ cells: PostgreSQLRows.Cells) throws -> DirectoryUser {
        DirectoryUser(
            id: try cells("id"), userPrincipalName: try cells("user_principal_name"), displayName: try cells("display_name"),
            mail: try cells("mail"), accountEnabled: try cells("account_enabled")
        )
    }

    private struct TargetRow: Encodable {
        let n: Int, tenant: String, upn: String, user: String?, source: String, added: Int64
    }
}
