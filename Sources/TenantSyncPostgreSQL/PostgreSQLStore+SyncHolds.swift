import Foundation
import PostgresNIO
import TenantSyncCore

/// Runs held by the mass-deletion guard, interrupted runs, and the scheduler's one-query read of the tenants due a
/// daily sync, with the SQLite store's semantics (`SQLiteStore+Directory.swift`, `SQLiteStore+Overview.swift`).
extension PostgreSQLStore {
    public func failInterruptedSyncRuns(at date: Date) async throws -> Int {
        try await transaction { connection in
            try await Self.one(
                connection.query(
                    """
                    WITH failed AS (
                        UPDATE sync_runs SET state = 'failed', finished_at = \(StoredDate.bound(date)),
                            error = 'interrupted: the daemon stopped during the run; the next run resumes from the last committed delta link'
                        WHERE state = 'running'
                            -- A run under a live sync lease is going on another node (0003_cluster.sql): not interrupted.
                            AND NOT EXISTS (
                                SELECT 1 FROM leases l WHERE l.kind = 'sync' AND l.key = sync_runs.tenant_id
                                    AND l.holder IS NOT NULL AND l.expires_at > clock_timestamp())
                        RETURNING 1)
                    SELECT count(*) FROM failed
                    """,
                    logger: logger
                ),
                Int.self
            ) ?? 0
        }
    }

    public func holdSyncRun(runID: Int64, removedUserIDs: [String], removedGroupIDs: [String], deltaLinks: [String: String], at date: Date) async throws {
        try await transaction { connection in
            try await Self.writeHold(
                connection, runID: runID, removedUserIDs: removedUserIDs, removedGroupIDs: removedGroupIDs, deltaLinks: deltaLinks, at: date,
                logger: logger
            )
        }
    }

    /// The held removals and links of a run, and its `held` state, in the caller's transaction.
    static func writeHold(
        _ connection: PostgresConnection, runID: Int64, removedUserIDs: [String], removedGroupIDs: [String], deltaLinks: [String: String],
        at date: Date, logger: Logger
    ) async throws {
        let links = deltaLinks.sorted { $0.key < $1.key }
        try await connection.query(
            """
            INSERT INTO held_removals (run_id, kind, object_id)
            SELECT \(runID), 'user', id FROM unnest(\(removedUserIDs)::text[]) AS id
            UNION ALL SELECT \(runID), 'group', id FROM unnest(\(removedGroupIDs)::text[]) AS id
            ON CONFLICT DO NOTHING
            """,
            logger: logger
        )
        try await connection.query(
            """
            INSERT INTO held_delta_links (run_id, resource, link)
            SELECT \(runID), l.resource, l.link FROM unnest(\(links.map(\.key))::text[], \(links.map(\.value))::text[]) AS l(resource, link)
            ON CONFLICT (run_id, resource) DO UPDATE SET link = excluded.link
            """,
            logger: logger
        )
        try await connection.query(
            "UPDATE sync_runs SET state = 'held', finished_at = \(StoredDate.bound(date)) WHERE id = \(runID)", logger: logger
        )
    }

    /// Applies the held removals with the held delta links, and marks the run succeeded, in one transaction; the
    /// run's row is locked first so that two operators (on two nodes) cannot confirm it twice.
    public func confirmHeldSyncRun(runID: Int64, at date: Date) async throws -> DirectoryChangeCounts {
        try await transaction { connection in
            let run = try await PostgreSQLRows.first(
                connection.query("SELECT \(unescaped: Self.runList) FROM sync_runs WHERE id = \(runID) FOR UPDATE", logger: logger),
                PostgreSQLRows.syncRun
            )
            guard let run, run.state == .held else { throw Self.notHeld(runID, "confirm") }
            var batch = DirectoryBatch()
            let removals = try await connection.query(
                "SELECT kind, object_id FROM held_removals WHERE run_id = \(runID) ORDER BY object_id", logger: logger
            )
            for try await (kind, id) in removals.decode((String, String).self) {
                if kind == "user" { batch.removedUserIDs.append(id) } else { batch.removedGroupIDs.append(id) }
            }
            let links = try await connection.query("SELECT resource, link FROM held_delta_links WHERE run_id = \(runID)", logger: logger)
            for try await (resource, link) in links.decode((String, String).self) { batch.deltaLinks[resource] = link }
            let counts = try await Self.apply(batch, tenantID: run.tenantID, at: date, connection: connection, logger: logger)
            var total = run.counts
            total += counts
            try await connection.query("DELETE FROM held_removals WHERE run_id = \(runID)", logger: logger)
            try await connection.query("DELETE FROM held_delta_links WHERE run_id = \(runID)", logger: logger)
            try await connection.query(
                """
                UPDATE sync_runs SET state = 'succeeded', finished_at = \(StoredDate.bound(date)), users_removed = \(total.usersRemoved),
                    groups_removed = \(total.groupsRemoved), memberships_removed = \(total.membershipsRemoved)
                WHERE id = \(runID)
                """,
                logger: logger
            )
            return counts
        }
    }

    public func discardHeldSyncRun(runID: Int64, at date: Date) async throws {
        try await transaction { connection in
            let discarded = try await Self.one(
                connection.query(
                    """
                    UPDATE sync_runs SET state = 'failed', error = 'held removals discarded by an operator', finished_at = \(StoredDate.bound(date))
                    WHERE id = \(runID) AND state = 'held' RETURNING id
                    """,
                    logger: logger
                ),
                Int64.self
            )
            guard discarded != nil else { throw Self.notHeld(runID, "discard") }
            try await connection.query("DELETE FROM held_removals WHERE run_id = \(runID)", logger: logger)
            try await connection.query("DELETE FROM held_delta_links WHERE run_id = \(runID)", logger: logger)
        }
    }

    /// What a held run would remove (tests read it, as they do the SQLite store's).
    public func heldRemovals(runID: Int64) async throws -> (userIDs: [String], groupIDs: [String]) {
        try await read { connection in
            var users: [String] = []
            var groups: [String] = []
            let rows = try await connection.query(
                "SELECT kind, object_id FROM held_removals WHERE run_id = \(runID) ORDER BY object_id COLLATE \"C\"", logger: logger
            )
            for try await (kind, id) in rows.decode((String, String).self) {
                if kind == "user" { users.append(id) } else { groups.append(id) }
            }
            return (users, groups)
        }
    }

    public func heldSyncRuns(tenantID: String) async throws -> [SyncRun] {
        try await read { connection in
            try await PostgreSQLRows.all(
                connection.query(
                    "SELECT \(unescaped: Self.runList) FROM sync_runs WHERE tenant_id = \(tenantID) AND state = 'held' ORDER BY id DESC",
                    logger: logger
                ),
                PostgreSQLRows.syncRun
            )
        }
    }

    public func heldSyncRunsOfAllTenants(limit: Int?) async throws -> [SyncRun] {
        // A limit is bound as a parameter; none binds NULL, which PostgreSQL reads as no limit.
        let limit = limit.map { max($0, 0) }
        return try await read { connection in
            try await PostgreSQLRows.all(
                connection.query(
                    """
                    SELECT \(unescaped: PostgreSQLRows.select(PostgreSQLRows.runColumns, from: "r")) FROM sync_runs r
                    JOIN tenants t ON t.id = r.tenant_id WHERE r.state = 'held' ORDER BY lower(t.domain) COLLATE "C", r.id DESC
                    LIMIT \(limit)
                    """,
                    logger: logger
                ),
                PostgreSQLRows.syncRun
            )
        }
    }

    public func heldSyncRunCount() async throws -> Int {
        try await read { connection in
            let rows = try await connection.query("SELECT count(*) FROM sync_runs WHERE state = 'held'", logger: logger)
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }

    /// Every tenant due a daily sync, in one query over the tenants and their accounts: each tenant's newest run
    /// start is kept in `tenants.last_run_started_at` by a trigger (migration 0001), never looked up among the runs.
    public func scheduledTenants(onlyTenantID tenantID: String?) async throws -> [ScheduledTenant] {
        let services = Self.directoryServices
        return try await read { connection in
            let rows = try await connection.query(
                """
                SELECT t.id, t.domain, t.last_run_started_at FROM tenants t
                WHERE (\(tenantID)::text IS NULL OR t.id = \(tenantID)) AND t.sync_scope = 'all' AND EXISTS (
                    SELECT 1 FROM service_accounts s WHERE s.tenant_id = t.id AND s.state != 'provisioning'
                    AND s.service = ANY(\(services)::text[]))
                ORDER BY lower(t.domain) COLLATE "C"
                """,
                logger: logger
            )
            var tenants: [ScheduledTenant] = []
            for try await (id, domain, started) in rows.decode((String, String, Date?).self) {
                tenants.append(ScheduledTenant(tenantID: id, domain: domain, lastRunStartedAt: StoredDate.read(started)))
            }
            return tenants
        }
    }

    static func notHeld(_ runID: Int64, _ action: String) -> TenantSyncError {
        TenantSyncError(.invalidArgument, "Sync run \(runID) is not held; nothing to \(action).", context: ["sync.run": "\(runID)"])
    }
}
