import Foundation
import GRDB
import TenantSyncCore

extension SQLiteStore: DirectoryStore {
    public func applyDirectoryBatch(tenantID: String, batch: DirectoryBatch, at date: Date) async throws -> DirectoryChangeCounts {
        let now = Timestamp.text(date)
        return try await pool.write { db in
            try Self.apply(batch, tenantID: tenantID, at: now, db: db)
        }
    }

    /// Applies a batch inside the caller's transaction.
    static func apply(_ batch: DirectoryBatch, tenantID: String, at now: String, db: Database) throws -> DirectoryChangeCounts {
        var counts = DirectoryChangeCounts()
        var rows = try DirectoryRowWriter(db, tenantID: tenantID, syncedAt: now)
        if !batch.upsertedUsers.isEmpty {
            // Key order keeps the primary-key inserts on neighbouring pages.
            for user in batch.upsertedUsers.sorted(by: { $0.id < $1.id }) {
                if try rows.insertUser(user) {
                    counts.usersAdded += 1
                } else {
                    counts.usersChanged += try rows.updateUser(user)
                }
            }
        }
        if !batch.removedUserIDs.isEmpty {
            // One statement per table for the whole batch: group_members has no by-member index
            // (0003), so its rows go in one scan of the tenant's memberships.
            let ids = try Self.jsonArray(batch.removedUserIDs)
            try db.execute(
                sql: "DELETE FROM directory_users WHERE tenant_id = ? AND id IN (SELECT value FROM json_each(?))", arguments: [tenantID, ids]
            )
            counts.usersRemoved += db.changesCount
            try db.execute(
                sql: "DELETE FROM group_members WHERE tenant_id = ? AND member_id IN (SELECT value FROM json_each(?))", arguments: [tenantID, ids]
            )
            counts.membershipsRemoved += db.changesCount
        }
        for group in batch.upsertedGroups {
            if try rows.insertGroup(id: group.id, displayName: group.displayName, mail: group.mail) {
                counts.groupsAdded += 1
            } else {
                counts.groupsChanged += try rows.updateGroup(id: group.id, displayName: group.displayName, mail: group.mail)
            }
        }
        if !batch.removedGroupIDs.isEmpty {
            let delete = try db.cachedStatement(sql: "DELETE FROM directory_groups WHERE tenant_id = ? AND id = ?")
            let members = try db.cachedStatement(sql: "DELETE FROM group_members WHERE tenant_id = ? AND group_id = ?")
            for id in batch.removedGroupIDs {
                try delete.execute(arguments: [tenantID, id])
                counts.groupsRemoved += db.changesCount
                try members.execute(arguments: [tenantID, id])
                counts.membershipsRemoved += db.changesCount
            }
            // Nested memberships of the removed groups, in one scan.
            try db.execute(
                sql: "DELETE FROM group_members WHERE tenant_id = ? AND member_id IN (SELECT value FROM json_each(?))",
                arguments: [tenantID, try Self.jsonArray(batch.removedGroupIDs)]
            )
            counts.membershipsRemoved += db.changesCount
        }
        for (groupID, memberships) in batch.replacedMembershipsOfGroups.sorted(by: { $0.key < $1.key }) {
            let stored = try rows.memberIDs(ofGroup: groupID)
            // A group read for the first time (every group of a tenant's first full sync) has nothing
            // to compare against: no sets to build.
            let existing = stored.isEmpty ? Set<String>() : Set(stored)
            if !existing.isEmpty {
                let wanted = Set(memberships.map(\.memberID))
                for stale in existing.subtracting(wanted) {
                    counts.membershipsRemoved += try rows.removeMembership(groupID: groupID, memberID: stale)
                }
            }
            let sorted = memberships.sorted(by: { $0.memberID < $1.memberID })
            let added = existing.isEmpty ? sorted : sorted.filter { !existing.contains($0.memberID) }
            counts.membershipsAdded += try rows.insertMemberships(groupID: groupID, added)
        }
        for membership in batch.addedMemberships {
            counts.membershipsAdded += try rows.insertMembership(
                groupID: membership.groupID, memberID: membership.memberID, memberType: membership.memberType.rawValue
            )
        }
        for membership in batch.removedMemberships {
            counts.membershipsRemoved += try rows.removeMembership(groupID: membership.groupID, memberID: membership.memberID)
        }
        for (resource, link) in batch.deltaLinks.sorted(by: { $0.key < $1.key }) {
            try db.execute(
                sql: """
                    INSERT INTO delta_links (tenant_id, resource, link, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(tenant_id, resource) DO UPDATE SET link = excluded.link, updated_at = excluded.updated_at
                    """,
                arguments: [tenantID, resource, link, now]
            )
        }
        if counts.usersAdded > 0 || counts.usersRemoved > 0 {
            // The directory's size is a metric series; no trigger counts it (0013_metrics_versions.sql says why).
            try db.execute(sql: "UPDATE tenants SET metrics_version = metrics_version + 1 WHERE id = ?", arguments: [tenantID])
        }
        return counts
    }

    /// A JSON array of strings, for `json_each(?)` in a batched statement.
    static func jsonArray(_ values: [String]) throws -> String {
        String(decoding: try JSONEncoder().encode(values), as: UTF8.self)
    }

    public func deltaLink(tenantID: String, resource: String) async throws -> String? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT link FROM delta_links WHERE tenant_id = ? AND resource = ?", arguments: [tenantID, resource])
        }
    }

    public func clearDeltaLinks(tenantID: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM delta_links WHERE tenant_id = ?", arguments: [tenantID])
        }
    }

    /// Inspection for tests and the benchmark: no service needs it, so it is not part of the store protocols.
    public func directoryUsers(tenantID: String) async throws -> [DirectoryUser] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM directory_users WHERE tenant_id = ? ORDER BY user_principal_name", arguments: [tenantID])
                .map(Self.user(from:))
        }
    }

    public func directoryUser(tenantID: String, userPrincipalName: String) async throws -> DirectoryUser? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM directory_users WHERE tenant_id = ? AND user_principal_name = ? COLLATE NOCASE",
                arguments: [tenantID, userPrincipalName]
            ).map(Self.user(from:))
        }
    }

    /// Inspection for tests and the benchmark: no service needs it, so it is not part of the store protocols.
    public func directoryGroups(tenantID: String) async throws -> [DirectoryGroup] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM directory_groups WHERE tenant_id = ? ORDER BY display_name, id", arguments: [tenantID])
                .map { DirectoryGroup(id: $0["id"], displayName: $0["display_name"], mail: $0["mail"]) }
        }
    }

    /// Inspection for tests and the benchmark: no service needs it, so it is not part of the store protocols.
    public func groupMemberships(tenantID: String) async throws -> [GroupMembership] {
        try await pool.read { db in
            // Columns by position: a tenant has hundreds of thousands of memberships, and a lookup by
            // name (case-insensitive) per row cost more than reading them.
            try Array(Row.fetchCursor(
                db, sql: "SELECT group_id, member_id, member_type FROM group_members WHERE tenant_id = ? ORDER BY group_id, member_id",
                arguments: [tenantID]
            ).map {
                GroupMembership(groupID: $0[0], memberID: $0[1], memberType: GroupMembership.MemberType(rawValue: $0[2]) ?? .other)
            })
        }
    }

    public func selectedTargets(tenantID: String) async throws -> [SelectedTarget] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM selected_targets WHERE tenant_id = ? ORDER BY user_principal_name", arguments: [tenantID])
                .map {
                    SelectedTarget(
                        tenantID: $0["tenant_id"], userPrincipalName: $0["user_principal_name"], userID: $0["user_id"],
                        source: SelectedTarget.Source(rawValue: $0["source"]) ?? .upn,
                        addedAt: Timestamp.date($0["added_at"]) ?? .distantPast
                    )
                }
        }
    }

    public func addSelectedTargets(_ targets: [SelectedTarget]) async throws {
        try await pool.write { db in
            for target in targets {
                try db.execute(
                    sql: """
                        INSERT INTO selected_targets (tenant_id, user_principal_name, user_id, source, added_at) VALUES (?, ?, ?, ?, ?)
                        ON CONFLICT(tenant_id, user_principal_name) DO UPDATE SET user_id = excluded.user_id
                        """,
                    arguments: [target.tenantID, target.userPrincipalName, target.userID, target.source.rawValue, Timestamp.text(target.addedAt)]
                )
            }
        }
    }

    public func removeSelectedTargets(tenantID: String, userPrincipalNames: [String]) async throws {
        try await pool.write { db in
            for name in userPrincipalNames {
                try db.execute(
                    sql: "DELETE FROM selected_targets WHERE tenant_id = ? AND user_principal_name = ?", arguments: [tenantID, name]
                )
            }
        }
    }

    public func startSyncRun(tenantID: String, service: ServiceKind?, trigger: SyncTrigger, mode: SyncMode, at date: Date) async throws -> SyncRun {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO sync_runs (tenant_id, service, trigger, mode, started_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [tenantID, service?.rawValue, trigger.rawValue, mode.rawValue, Timestamp.text(date)]
            )
            return try Self.fetchSyncRun(db, id: db.lastInsertedRowID)!
        }
    }

    public func recordSyncProgress(runID: Int64, pages: Int, counts: DirectoryChangeCounts) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE sync_runs SET pages = ?, users_added = ?, users_changed = ?, users_removed = ?,
                        groups_added = ?, groups_changed = ?, groups_removed = ?, memberships_added = ?, memberships_removed = ?
                    WHERE id = ?
                    """,
                arguments: [
                    pages, counts.usersAdded, counts.usersChanged, counts.usersRemoved, counts.groupsAdded,
                    counts.groupsChanged, counts.groupsRemoved, counts.membershipsAdded, counts.membershipsRemoved, runID,
                ]
            )
        }
    }

    public func finishSyncRun(runID: Int64, state: SyncRunState, error: String?, at date: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE sync_runs SET state = ?, error = ?, finished_at = ? WHERE id = ?",
                arguments: [state.rawValue, error, Timestamp.text(date), runID]
            )
        }
    }

    public func syncRun(id: Int64) async throws -> SyncRun? {
        try await pool.read { db in try Self.fetchSyncRun(db, id: id) }
    }

    public func syncRuns(tenantID: String, limit: Int) async throws -> [SyncRun] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM sync_runs WHERE tenant_id = ? ORDER BY id DESC LIMIT ?", arguments: [tenantID, limit]
            ).map(Self.syncRun(from:))
        }
    }

    public func lastSuccessfulSyncRun(tenantID: String) async throws -> SyncRun? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM sync_runs WHERE tenant_id = ? AND state = 'succeeded' ORDER BY id DESC LIMIT 1",
                arguments: [tenantID]
            ).map(Self.syncRun(from:))
        }
    }

    public func failInterruptedSyncRuns(at date: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE sync_runs SET state = 'failed', finished_at = ?,
                        error = 'interrupted: the daemon stopped during the run; the next run resumes from the last committed delta link'
                    WHERE state = 'running'
                    """,
                arguments: [Timestamp.text(date)]
            )
            return db.changesCount
        }
    }

    public func setSyncRunNote(runID: Int64, note: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE sync_runs SET note = ? WHERE id = ?", arguments: [note, runID])
        }
    }

    public func directoryUserIDs(tenantID: String) async throws -> Set<String> {
        try await pool.read { db in
            Set(try String.fetchAll(db, sql: "SELECT id FROM directory_users WHERE tenant_id = ?", arguments: [tenantID]))
        }
    }

    public func directoryUserCount(tenantID: String) async throws -> Int {
        // COUNT over the primary key (tenant_id first): SQLite counts index entries, no row is decoded.
        try await pool.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM directory_users WHERE tenant_id = ?", arguments: [tenantID]) ?? 0
        }
    }

    public func directoryGroupIDs(tenantID: String) async throws -> Set<String> {
        try await pool.read { db in
            Set(try String.fetchAll(db, sql: "SELECT id FROM directory_groups WHERE tenant_id = ?", arguments: [tenantID]))
        }
    }

    public func holdSyncRun(runID: Int64, removedUserIDs: [String], removedGroupIDs: [String], deltaLinks: [String: String], at date: Date) async throws {
        try await pool.write { db in
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO held_removals (run_id, kind, object_id) VALUES (?, ?, ?)")
            for id in removedUserIDs { try insert.execute(arguments: [runID, "user", id]) }
            for id in removedGroupIDs { try insert.execute(arguments: [runID, "group", id]) }
            for (resource, link) in deltaLinks {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO held_delta_links (run_id, resource, link) VALUES (?, ?, ?)", arguments: [runID, resource, link]
                )
            }
            try db.execute(
                sql: "UPDATE sync_runs SET state = 'held', finished_at = ? WHERE id = ?", arguments: [Timestamp.text(date), runID]
            )
        }
    }

    /// What a held run would remove; read by the store's confirmation of the hold and by tests.
    public func heldRemovals(runID: Int64) async throws -> (userIDs: [String], groupIDs: [String]) {
        try await pool.read { db in
            let users = try String.fetchAll(db, sql: "SELECT object_id FROM held_removals WHERE run_id = ? AND kind = 'user' ORDER BY object_id", arguments: [runID])
            let groups = try String.fetchAll(db, sql: "SELECT object_id FROM held_removals WHERE run_id = ? AND kind = 'group' ORDER BY object_id", arguments: [runID])
            return (users, groups)
        }
    }

    public func confirmHeldSyncRun(runID: Int64, at date: Date) async throws -> DirectoryChangeCounts {
        guard let run = try await syncRun(id: runID), run.state == .held else {
            throw TenantSyncError(.invalidArgument, "Sync run \(runID) is not held; nothing to confirm.", context: ["sync.run": "\(runID)"])
        }
        let (users, groups) = try await heldRemovals(runID: runID)
        var batch = DirectoryBatch()
        batch.removedUserIDs = users
        batch.removedGroupIDs = groups
        batch.deltaLinks = try await pool.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT resource, link FROM held_delta_links WHERE run_id = ?", arguments: [runID])
                .map { ($0["resource"] as String, $0["link"] as String) })
        }
        // Removal, links and the run's new state commit together.
        let removals = batch
        return try await pool.write { db in
            let counts = try Self.apply(removals, tenantID: run.tenantID, at: Timestamp.text(date), db: db)
            try db.execute(sql: "DELETE FROM held_removals WHERE run_id = ?", arguments: [runID])
            try db.execute(sql: "DELETE FROM held_delta_links WHERE run_id = ?", arguments: [runID])
            var total = run.counts
            total += counts
            try db.execute(
                sql: """
                    UPDATE sync_runs SET state = 'succeeded', finished_at = ?, users_removed = ?, groups_removed = ?,
                        memberships_removed = ? WHERE id = ?
                    """,
                arguments: [Timestamp.text(date), total.usersRemoved, total.groupsRemoved, total.membershipsRemoved, runID]
            )
            return counts
        }
    }

    public func discardHeldSyncRun(runID: Int64, at date: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM held_removals WHERE run_id = ?", arguments: [runID])
            try db.execute(sql: "DELETE FROM held_delta_links WHERE run_id = ?", arguments: [runID])
            try db.execute(
                sql: "UPDATE sync_runs SET state = 'failed', error = 'held removals discarded by an operator', finished_at = ? WHERE id = ? AND state = 'held'",
                arguments: [Timestamp.text(date), runID]
            )
            guard db.changesCount == 1 else {
                throw TenantSyncError(.invalidArgument, "Sync run \(runID) is not held; nothing to discard.", context: ["sync.run": "\(runID)"])
            }
        }
    }

    public func heldSyncRuns(tenantID: String) async throws -> [SyncRun] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM sync_runs WHERE tenant_id = ? AND state = 'held' ORDER BY id DESC", arguments: [tenantID]
            ).map(Self.syncRun(from:))
        }
    }

    static func user(from row: Row) -> DirectoryUser {
        DirectoryUser(
            id: row["id"], userPrincipalName: row["user_principal_name"], displayName: row["display_name"],
            mail: row["mail"], accountEnabled: row["account_enabled"]
        )
    }

    static func fetchSyncRun(_ db: Database, id: Int64) throws -> SyncRun? {
        try Row.fetchOne(db, sql: "SELECT * FROM sync_runs WHERE id = ?", arguments: [id]).map(syncRun(from:))
    }

    static func syncRun(from row: Row) -> SyncRun {
        var counts = DirectoryChangeCounts()
        counts.usersAdded = row["users_added"]
        counts.usersChanged = row["users_changed"]
        counts.usersRemoved = row["users_removed"]
        counts.groupsAdded = row["groups_added"]
        counts.groupsChanged = row["groups_changed"]
        counts.groupsRemoved = row["groups_removed"]
        counts.membershipsAdded = row["memberships_added"]
        counts.membershipsRemoved = row["memberships_removed"]
        return SyncRun(
            id: row["id"], tenantID: row["tenant_id"], service: (row["service"] as String?).flatMap(ServiceKind.init(rawValue:)),
            trigger: SyncTrigger(rawValue: row["trigger"]) ?? .manual, mode: SyncMode(rawValue: row["mode"]) ?? .full,
            state: SyncRunState(rawValue: row["state"]) ?? .failed,
            startedAt: Timestamp.date(row["started_at"]) ?? .distantPast, finishedAt: Timestamp.date(row["finished_at"]),
            pages: row["pages"], counts: counts, error: row["error"], note: row["note"]
        )
    }
}
