import Foundation
import Logging
import PostgresNIO
import TenantSyncCore

/// One directory batch written set-wise: each kind of row travels as one JSON parameter unpacked by
/// `jsonb_to_recordset`, so a page of 999 users (or a full sync's 100,000) costs a fixed number of statements,
/// never one round trip per row. The order of the steps and what each counts are the SQLite store's
/// (`Sources/TenantSyncStore/SQLiteStore+Directory.swift`).
extension PostgreSQLStore {
    /// Applies a batch inside the caller's transaction.
    static func apply(_ batch: DirectoryBatch, tenantID: String, at date: Date, connection: PostgresConnection, logger: Logger) async throws -> DirectoryChangeCounts {
        let now = StoredDate.bound(date)
        var counts = DirectoryChangeCounts()
        func counted(_ query: PostgresQuery) async throws -> (Int, Int) {
            let rows = try await connection.query(query, logger: logger)
            for try await (first, second) in rows.decode((Int, Int).self) { return (first, second) }
            return (0, 0)
        }
        if !batch.upsertedUsers.isEmpty {
            // The last of a user's rows wins (one statement may not update a row twice); key order keeps the
            // primary-key inserts on neighbouring pages.
            let users = Dictionary(batch.upsertedUsers.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
                .values.sorted { $0.id < $1.id }
                .map { UserRow(id: $0.id, upn: $0.userPrincipalName, name: $0.displayName, mail: $0.mail, enabled: $0.accountEnabled) }
            let rows = try json(users)
            let (added, changed) = try await counted(
                """
                WITH written AS (
                    INSERT INTO directory_users
                        (tenant_id, id, user_principal_name, display_name, mail, account_enabled, synced_at, first_synced_at)
                    SELECT \(tenantID), u.id, u.upn, u.name, u.mail, u.enabled, \(now), \(now)
                    FROM jsonb_to_recordset(\(rows)::jsonb) AS u(id text, upn text, name text, mail text, enabled boolean)
                    ON CONFLICT (tenant_id, id) DO UPDATE SET user_principal_name = excluded.user_principal_name,
                        display_name = excluded.display_name, mail = excluded.mail, account_enabled = excluded.account_enabled,
                        synced_at = excluded.synced_at
                    WHERE (directory_users.user_principal_name, directory_users.display_name, directory_users.mail,
                            directory_users.account_enabled)
                        IS DISTINCT FROM (excluded.user_principal_name, excluded.display_name, excluded.mail, excluded.account_enabled)
                    RETURNING (xmax = 0) AS inserted)
                SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written
                """
            )
            counts.usersAdded += added
            counts.usersChanged += changed
        }
        if !batch.removedUserIDs.isEmpty {
            let ids = batch.removedUserIDs
            let (users, memberships) = try await counted(
                """
                WITH users AS (DELETE FROM directory_users WHERE tenant_id = \(tenantID) AND id = ANY(\(ids)::text[]) RETURNING 1),
                    memberships AS (DELETE FROM group_members WHERE tenant_id = \(tenantID) AND member_id = ANY(\(ids)::text[]) RETURNING 1)
                SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM memberships)
                """
            )
            counts.usersRemoved += users
            counts.membershipsRemoved += memberships
        }
        if !batch.upsertedGroups.isEmpty {
            let groups = Dictionary(batch.upsertedGroups.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
                .values.sorted { $0.id < $1.id }
                .map { GroupRow(id: $0.id, name: $0.displayName, mail: $0.mail) }
            let rows = try json(groups)
            let (added, changed) = try await counted(
                """
                WITH written AS (
                    INSERT INTO directory_groups (tenant_id, id, display_name, mail, synced_at)
                    SELECT \(tenantID), g.id, g.name, g.mail, \(now)
                    FROM jsonb_to_recordset(\(rows)::jsonb) AS g(id text, name text, mail text)
                    ON CONFLICT (tenant_id, id) DO UPDATE SET display_name = excluded.display_name, mail = excluded.mail,
                        synced_at = excluded.synced_at
                    WHERE (directory_groups.display_name, directory_groups.mail) IS DISTINCT FROM (excluded.display_name, excluded.mail)
                    RETURNING (xmax = 0) AS inserted)
                SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM written
                """
            )
            counts.groupsAdded += added
            counts.groupsChanged += changed
        }
        if !batch.removedGroupIDs.isEmpty {
            // The groups, their memberships, and the memberships that nest them in other groups.
            let ids = batch.removedGroupIDs
            let (groups, memberships) = try await counted(
                """
                WITH groups AS (DELETE FROM directory_groups WHERE tenant_id = \(tenantID) AND id = ANY(\(ids)::text[]) RETURNING 1),
                    memberships AS (
                        DELETE FROM group_members WHERE tenant_id = \(tenantID)
                            AND (group_id = ANY(\(ids)::text[]) OR member_id = ANY(\(ids)::text[]))
                        RETURNING 1)
                SELECT (SELECT count(*) FROM groups), (SELECT count(*) FROM memberships)
                """
            )
            counts.groupsRemoved += groups
            counts.membershipsRemoved += memberships
        }
        if !batch.replacedMembershipsOfGroups.isEmpty {
            // Every replaced group at once: what is stored and not wanted goes, what is wanted and missing comes.
            let groupIDs = batch.replacedMembershipsOfGroups.keys.sorted()
            let wanted = try json(membershipRows(batch.replacedMembershipsOfGroups.sorted { $0.key < $1.key }.flatMap { group, members in
                members.map { GroupMembership(groupID: group, memberID: $0.memberID, memberType: $0.memberType) }
            }))
            let (removed, added) = try await counted(
                """
                WITH wanted AS (
                        SELECT * FROM jsonb_to_recordset(\(wanted)::jsonb) AS w(g text, m text, t text)),
                    stale AS (
                        DELETE FROM group_members s WHERE s.tenant_id = \(tenantID) AND s.group_id = ANY(\(groupIDs)::text[])
                            AND NOT EXISTS (SELECT 1 FROM wanted w WHERE w.g = s.group_id AND w.m = s.member_id)
                        RETURNING 1),
                    added AS (
                        INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
                        SELECT \(tenantID), w.g, w.m, w.t FROM wanted w ORDER BY w.g, w.m
                        ON CONFLICT DO NOTHING RETURNING 1)
                SELECT (SELECT count(*) FROM stale), (SELECT count(*) FROM added)
                """
            )
            counts.membershipsRemoved += removed
            counts.membershipsAdded += added
        }
        if !batch.addedMemberships.isEmpty {
            let rows = try json(membershipRows(batch.addedMemberships))
            let (added, _) = try await counted(
                """
                WITH added AS (
                    INSERT INTO group_members (tenant_id, group_id, member_id, member_type)
                    SELECT \(tenantID), a.g, a.m, a.t FROM jsonb_to_recordset(\(rows)::jsonb)
                        AS a(g text, m text, t text)
                    ON CONFLICT DO NOTHING RETURNING 1)
                SELECT count(*), 0 FROM added
                """
            )
            counts.membershipsAdded += added
        }
        if !batch.removedMemberships.isEmpty {
            let rows = try json(membershipRows(batch.removedMemberships))
            let (removed, _) = try await counted(
                """
                WITH removed AS (
                    DELETE FROM group_members s USING jsonb_to_recordset(\(rows)::jsonb)
                        AS r(g text, m text, t text)
                    WHERE s.tenant_id = \(tenantID) AND s.group_id = r.g AND s.member_id = r.m RETURNING 1)
                SELECT count(*), 0 FROM removed
                """
            )
            counts.membershipsRemoved += removed
        }
        if !batch.deltaLinks.isEmpty {
            let links = batch.deltaLinks.sorted { $0.key < $1.key }
            try await connection.query(
                """
                INSERT INTO delta_links (tenant_id, resource, link, updated_at)
                SELECT \(tenantID), l.resource, l.link, \(now) FROM unnest(\(links.map(\.key))::text[], \(links.map(\.value))::text[]) AS l(resource, link)
                ON CONFLICT (tenant_id, resource) DO UPDATE SET link = excluded.link, updated_at = excluded.updated_at
                """,
                logger: logger
            )
        }
        if counts.usersAdded > 0 || counts.usersRemoved > 0 {
            // The directory's size is a metric series; no trigger counts it (SQLite's 0013_metrics_versions.sql says
            // why). Last in the batch, so that the tenant's row is locked for the shortest time.
            try await connection.query("UPDATE tenants SET metrics_version = metrics_version + 1 WHERE id = \(tenantID)", logger: logger)
        }
        return counts
    }

    private struct UserRow: Encodable {
        let id: String, upn: String, name: String?, mail: String?, enabled: Bool
    }

    private struct GroupRow: Encodable {
        let id: String, name: String?, mail: String?
    }

    private struct MembershipRow: Encodable {
        let g: String, m: String, t: String
    }

    private static func membershipRows(_ memberships: [GroupMembership]) -> [MembershipRow] {
        memberships.map { MembershipRow(g: $0.groupID, m: $0.memberID, t: $0.memberType.rawValue) }
    }

    /// Rows as one JSON array parameter (`null` for an absent optional, which `jsonb_to_recordset` reads as NULL).
    static func json(_ rows: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
    }
}
