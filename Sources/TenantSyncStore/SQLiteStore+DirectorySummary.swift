import Foundation
import GRDB
import TenantSyncCore

extension SQLiteStore {
    public func directorySummary(tenantID: String) async throws -> DirectorySummary {
        try await pool.read { db in
            // COUNT over each table's primary key (tenant_id first): SQLite counts index entries, no row is decoded.
            let users = try Row.fetchOne(
                db, sql: "SELECT count(*), count(*) FILTER (WHERE account_enabled = 0) FROM directory_users WHERE tenant_id = ?", arguments: [tenantID]
            )
            let groups = try Int.fetchOne(db, sql: "SELECT count(*) FROM directory_groups WHERE tenant_id = ?", arguments: [tenantID]) ?? 0
            let memberships = try Int.fetchOne(db, sql: "SELECT count(*) FROM group_members WHERE tenant_id = ?", arguments: [tenantID]) ?? 0
            // Newest run of each mode: sync_runs_by_tenant (tenant_id, started_at) read backwards, stopping at the first match.
            func newest(_ mode: SyncMode) throws -> SyncRun? {
                try Row.fetchOne(
                    db, sql: "SELECT * FROM sync_runs WHERE tenant_id = ? AND mode = ? ORDER BY started_at DESC, id DESC LIMIT 1",
                    arguments: [tenantID, mode.rawValue]
                ).map(Self.syncRun(from:))
            }
            let links = try Row.fetchAll(
                db, sql: "SELECT resource, updated_at FROM delta_links WHERE tenant_id = ? ORDER BY resource", arguments: [tenantID]
            ).compactMap { row -> DirectorySummary.DeltaLink? in
                guard let updatedAt = Timestamp.date(row["updated_at"]) else { return nil }
                return DirectorySummary.DeltaLink(resource: row["resource"], updatedAt: updatedAt)
            }
            return DirectorySummary(
                users: users?[0] ?? 0, disabledUsers: users?[1] ?? 0, groups: groups, memberships: memberships,
                lastFull: try newest(.full), lastDelta: try newest(.delta), deltaLinks: links
            )
        }
    }

    public func directoryUserRecord(tenantID: String, userPrincipalName: String, groupsAfter: String?, groupsLimit: Int) async throws -> DirectoryUserRecord? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT * FROM directory_users WHERE tenant_id = ? AND user_principal_name = ? COLLATE NOCASE",
                arguments: [tenantID, userPrincipalName]
            ) else { return nil }
            let user = Self.user(from: row)
            // The user's groups, nested ones included (depth 1 = direct). group_members has no by-member
            // index (0003 dropped it: it cost more than half of a full sync's writes), so each level is
            // one scan of the tenant's memberships; an operator's question about one user can afford
            // that, a sync could not afford the index. The depth bound ends a cycle of nested groups.
            let parents = """
                WITH RECURSIVE parents(group_id, depth) AS (
                    SELECT group_id, 1 FROM group_members WHERE tenant_id = ?1 AND member_id = ?2
                    UNION
                    SELECT m.group_id, p.depth + 1 FROM group_members m JOIN parents p ON m.member_id = p.group_id
                    WHERE m.tenant_id = ?1 AND p.depth < 16
                )
                """
            let total = try Int.fetchOne(
                db, sql: parents + " SELECT count(DISTINCT group_id) FROM parents", arguments: [tenantID, user.id]
            ) ?? 0
            let groups = try Row.fetchAll(
                db,
                sql: parents + """
                     SELECT g.id, g.display_name, g.mail, min(p.depth) AS depth
                    FROM parents p JOIN directory_groups g ON g.tenant_id = ?1 AND g.id = p.group_id
                    WHERE ?3 IS NULL OR g.id > ?3
                    GROUP BY g.id ORDER BY g.id LIMIT ?4
                    """,
                arguments: [tenantID, user.id, groupsAfter, groupsLimit]
            ).map { row in
                DirectoryUserRecord.Membership(
                    group: DirectoryGroup(id: row["id"], displayName: row["display_name"], mail: row["mail"]), direct: (row["depth"] as Int) == 1
                )
            }
            let held = try Int64.fetchOne(
                db,
                sql: """
                    SELECT r.id FROM sync_runs r JOIN held_removals h ON h.run_id = r.id AND h.kind = 'user' AND h.object_id = ?
                    WHERE r.tenant_id = ? AND r.state = 'held' ORDER BY r.id DESC LIMIT 1
                    """,
                arguments: [user.id, tenantID]
            )
            return DirectoryUserRecord(
                user: user, firstSyncedAt: Timestamp.date(row["first_synced_at"]), changedAt: Timestamp.date(row["synced_at"]),
                groups: groups, groupsTotal: total, pendingRemovalRunID: held
            )
        }
    }
}
