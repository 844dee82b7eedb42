import Foundation
import PostgresNIO
import TenantSyncCore

/// The operator's reads of one tenant's directory and one user, with the SQLite store's semantics
/// (`Sources/TenantSyncStore/SQLiteStore+DirectorySummary.swift`).
extension PostgreSQLStore {
    public func directorySummary(tenantID: String) async throws -> DirectorySummary {
        try await transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            let countRows = try await connection.query(
                """
                SELECT (SELECT count(*) FROM directory_users WHERE tenant_id = \(tenantID)),
                    (SELECT count(*) FROM directory_users WHERE tenant_id = \(tenantID) AND NOT account_enabled),
                    (SELECT count(*) FROM directory_groups WHERE tenant_id = \(tenantID)),
                    (SELECT count(*) FROM group_members WHERE tenant_id = \(tenantID))
                """,
                logger: logger
            )
            var counts = (0, 0, 0, 0)
            for try await row in countRows.decode((Int, Int, Int, Int).self) { counts = row }
            func newest(_ mode: SyncMode) async throws -> SyncRun? {
                try await PostgreSQLRows.first(
                    connection.query(
                        """
                        SELECT \(unescaped: Self.runList) FROM sync_runs WHERE tenant_id = \(tenantID) AND mode = \(mode.rawValue)
                        ORDER BY started_at DESC, id DESC LIMIT 1
                        """,
                        logger: logger
                    ),
                    PostgreSQLRows.syncRun
                )
            }
            let lastFull = try await newest(.full)
            let lastDelta = try await newest(.delta)
            let links = try await PostgreSQLRows.all(
                connection.query(
                    "SELECT resource, updated_at FROM delta_links WHERE tenant_id = \(tenantID) ORDER BY resource", logger: logger
                )
            ) { cells in DirectorySummary.DeltaLink(resource: try cells("resource"), updatedAt: try cells.date("updated_at")) }
            return DirectorySummary(
                users: counts.0, disabledUsers: counts.1, groups: counts.2, memberships: counts.3,
                lastFull: lastFull, lastDelta: lastDelta, deltaLinks: links
            )
        }
    }

    public func directoryUserRecord(tenantID: String, userPrincipalName: String, groupsAfter: String?, groupsLimit: Int) async throws -> DirectoryUserRecord? {
        try await transaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            let found = try await PostgreSQLRows.first(
                connection.query(
                    """
                    SELECT id, user_principal_name, display_name, mail, account_enabled, first_synced_at, synced_at FROM directory_users
                    WHERE tenant_id = \(tenantID) AND lower(user_principal_name) = lower(\(userPrincipalName))
                        AND \(unescaped: Self.asciiCaseInsensitiveUPN) = lower(\(userPrincipalName) COLLATE "C")
                    """,
                    logger: logger
                )
            ) { cells in (try Self.directoryUser(cells), try cells.optionalDate("first_synced_at"), try cells.optionalDate("synced_at")) }
            guard let found else { return nil }
            let (user, firstSyncedAt, changedAt) = found
            // The user's groups, nested ones included (depth 1 = direct), bounded in depth as in the SQLite store
            // (its comment says why a scan per level is affordable here).
            let parents = """
                WITH RECURSIVE parents(group_id, depth) AS (
                    SELECT group_id, 1 FROM group_members WHERE tenant_id = $1 AND member_id = $2
                    UNION
                    SELECT m.group_id, p.depth + 1 FROM group_members m JOIN parents p ON m.member_id = p.group_id
                    WHERE m.tenant_id = $1 AND p.depth < 16
                )
                """
            var totalBinds = PostgresBindings()
            totalBinds.append(tenantID)
            totalBinds.append(user.id)
            let total = try await Self.one(
                connection.query(PostgresQuery(unsafeSQL: parents + " SELECT count(DISTINCT group_id) FROM parents", binds: totalBinds), logger: logger),
                Int.self
            ) ?? 0
            var binds = totalBinds
            binds.append(groupsAfter)
            binds.append(groupsLimit)
            let groups = try await PostgreSQLRows.all(
                connection.query(
                    PostgresQuery(
                        unsafeSQL: parents + """
                             SELECT g.id, g.display_name, g.mail, min(p.depth) AS depth
                            FROM parents p JOIN directory_groups g ON g.tenant_id = $1 AND g.id = p.group_id
                            WHERE $3::text IS NULL OR g.id > $3::text COLLATE "C"
                            GROUP BY g.id, g.display_name, g.mail ORDER BY g.id COLLATE "C" LIMIT $4
                            """,
                        binds: binds
                    ),
                    logger: logger
                )
            ) { cells in
                DirectoryUserRecord.Membership(
                    group: DirectoryGroup(id: try cells("id"), displayName: try cells("display_name"), mail: try cells("mail")),
                    direct: try cells("depth", as: Int.self) == 1
                )
            }
            let held = try await Self.one(
                connection.query(
                    """
                    SELECT r.id FROM sync_runs r JOIN held_removals h ON h.run_id = r.id AND h.kind = 'user' AND h.object_id = \(user.id)
                    WHERE r.tenant_id = \(tenantID) AND r.state = 'held' ORDER BY r.id DESC LIMIT 1
                    """,
                    logger: logger
                ),
                Int64.self
            )
            return DirectoryUserRecord(
                user: user, firstSyncedAt: firstSyncedAt, changedAt: changedAt, groups: groups, groupsTotal: total, pendingRemovalRunID: held
            )
        }
    }
}
