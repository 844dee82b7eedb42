import Foundation
import GRDB
import TenantSyncCore

/// The set-based reads of the control path and the scheduler: one query each, whatever the number of tenants.
extension SQLiteStore {
    /// The services whose accounts sync the tenant's directory, as a JSON array for `json_each`.
    static var directoryServicesJSON: String {
        let names = ServiceKind.allCases.filter(\.sharesDirectoryScope).map { "\"\($0.rawValue)\"" }
        return "[" + names.joined(separator: ",") + "]"
    }

    /// Whether the tenant `t` gets a daily sync: scope `all` and an account past provisioning that syncs the directory.
    static let tenantIsScheduledSQL = """
        (t.sync_scope = 'all' AND EXISTS (
            SELECT 1 FROM service_accounts s WHERE s.tenant_id = t.id AND s.state != 'provisioning'
            AND s.service IN (SELECT value FROM json_each(:directoryServices))))
        """

    static let runColumns = [
        "id", "tenant_id", "service", "trigger", "mode", "state", "started_at", "finished_at", "pages", "users_added",
        "users_changed", "users_removed", "groups_added", "groups_changed", "groups_removed", "memberships_added",
        "memberships_removed", "error", "note",
    ]
    static let tenantColumns = ["id", "domain", "display_name", "sync_scope", "created_at", "updated_at"]

    public func accountOverviews(_ query: AccountQuery) async throws -> [AccountOverview] {
        var conditions: [String] = []
        var arguments: [String: DatabaseValue] = ["directoryServices": Self.directoryServicesJSON.databaseValue]
        if let tenantID = query.tenantID {
            conditions.append("a.tenant_id = :tenant")
            arguments["tenant"] = tenantID.databaseValue
        }
        if let state = query.state {
            conditions.append("a.state = :state")
            arguments["state"] = state.rawValue.databaseValue
        }
        if let service = query.service {
            conditions.append("a.service = :service")
            arguments["service"] = service.rawValue.databaseValue
        }
        if query.needsAttention {
            conditions.append("a.id IN (\(Self.accountsNeedingAttentionSQL))")
        }
        if let after = query.afterID {
            conditions.append("a.id > :after")
            arguments["after"] = after.databaseValue
        }
        let tenant = Self.tenantColumns.map { "t.\($0) AS t_\($0)" }.joined(separator: ", ")
        let run = Self.runColumns.map { "r.\($0) AS r_\($0)" }.joined(separator: ", ")
        let sql = """
            SELECT a.*, \(tenant), \(run),
                \(Self.tenantIsScheduledSQL) AS tenant_is_scheduled,
                (SELECT min(ts.next_refresh_at) FROM grants g JOIN token_sets ts ON ts.grant_id = g.id
                    WHERE g.account_id = a.id AND g.state = 'valid') AS next_refresh_at,
                (SELECT group_concat(i.kind) FROM incidents i WHERE i.account_id = a.id AND i.resolved_at IS NULL) AS open_incident_kinds
            FROM service_accounts a
            JOIN tenants t ON t.id = a.tenant_id
            LEFT JOIN sync_runs r ON r.id = (SELECT max(id) FROM sync_runs WHERE tenant_id = a.tenant_id)
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY a.id
            \(query.limit == nil ? "" : "LIMIT \(max(query.limit ?? 0, 0))")
            """
        let frozen = arguments
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: Self.named(frozen)).map { row in
                let runRow = Self.unprefixed(row, "r_")
                return AccountOverview(
                    account: Self.account(from: row), tenant: Self.tenant(from: Self.unprefixed(row, "t_")),
                    lastRun: runRow["id"] == nil ? nil : Self.syncRun(from: runRow),
                    tenantIsScheduled: row["tenant_is_scheduled"] ?? false,
                    nextRefreshAt: Timestamp.date(row["next_refresh_at"]),
                    openIncidentKinds: ((row["open_incident_kinds"] as String?) ?? "").split(separator: ",")
                        .compactMap { Incident.Kind(rawValue: String($0)) }
                )
            }
        }
    }

    public func accountStateCounts() async throws -> AccountStateCounts {
        try await pool.read { db in
            var counts = AccountStateCounts()
            for row in try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM service_accounts GROUP BY state") {
                if let state = AccountState(rawValue: row["state"]) { counts.byState[state] = row["n"] }
            }
            return counts
        }
    }

    public func scheduledTenants(onlyTenantID tenantID: String?) async throws -> [ScheduledTenant] {
        var arguments: [String: DatabaseValue] = ["directoryServices": Self.directoryServicesJSON.databaseValue]
        if let tenantID { arguments["tenant"] = tenantID.databaseValue }
        let sql = Self.scheduledTenantsSQL(onlyOne: tenantID != nil)
        let frozen = arguments
        return try await pool.read { db in
            // Every tenant, on every planning pass: a cursor and columns by position, because `Row.fetchAll` copies
            // each row and a lookup by name lower-cases the name at each access (30,000 a pass at 10,000 tenants).
            var tenants: [ScheduledTenant] = []
            let rows = try Row.fetchCursor(db, sql: sql, arguments: Self.named(frozen))
            while let row = try rows.next() {
                tenants.append(ScheduledTenant(tenantID: row[0], domain: row[1], lastRunStartedAt: Timestamp.date(row[2])))
            }
            return tenants
        }
    }

    /// The daily plan's query. It reads the tenants and their accounts only: each tenant's newest run start is kept
    /// in `tenants.last_run_started_at` (schema version 10), never looked up among the runs, whose index grows with
    /// every day of history.
    static func scheduledTenantsSQL(onlyOne: Bool) -> String {
        """
        SELECT t.id, t.domain, t.last_run_started_at AS last_started_at
        FROM tenants t
        WHERE \(onlyOne ? "t.id = :tenant AND " : "")\(tenantIsScheduledSQL)
        ORDER BY t.domain
        """
    }

    public func heldSyncRunsOfAllTenants(limit: Int?) async throws -> [SyncRun] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT r.* FROM sync_runs r JOIN tenants t ON t.id = r.tenant_id WHERE r.state = 'held' ORDER BY t.domain, r.id DESC"
                    + (limit.map { " LIMIT \(max($0, 0))" } ?? "")
            ).map(Self.syncRun(from:))
        }
    }

    public func heldSyncRunCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sync_runs WHERE state = 'held'") ?? 0 }
    }

    /// The ids of the accounts that need attention: token-invalid ones by the state index, ones with an open incident by
    /// the open-incident index. A set, not a test per account: a fleet's 30,000 accounts are not each probed.
    static let accountsNeedingAttentionSQL = """
        SELECT id FROM service_accounts WHERE state = 'token-invalid'
        UNION SELECT account_id FROM incidents WHERE resolved_at IS NULL AND account_id IS NOT NULL
        """

    public func accountsNeedingAttentionCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM (\(Self.accountsNeedingAttentionSQL))") ?? 0 }
    }

    public func openIncidents(accountID: Int64) async throws -> [Incident] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM incidents WHERE account_id = ? AND resolved_at IS NULL ORDER BY id", arguments: [accountID]
            ).map(Self.incident(from:))
        }
    }

    public func memberCounts(tenantID: String, groupIDs: [String]) async throws -> [String: Int] {
        let ids = try Self.jsonArray(groupIDs)
        return try await pool.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT group_id, count(*) AS n FROM group_members
                    WHERE tenant_id = ? AND group_id IN (SELECT value FROM json_each(?)) GROUP BY group_id
                    """,
                arguments: [tenantID, ids]
            ) {
                counts[row["group_id"]] = row["n"]
            }
            return counts
        }
    }

    public func alerts(_ query: AlertQuery) async throws -> [Alert] {
        var conditions: [String] = []
        var arguments: [String: DatabaseValue] = ["limit": max(query.limit, 0).databaseValue]
        switch query.acknowledgement {
        case .unacknowledged: conditions.append("acknowledged_at IS NULL")
        case .acknowledged: conditions.append("acknowledged_at IS NOT NULL")
        case .any: break
        }
        if let tenantID = query.tenantID {
            conditions.append("tenant_id = :tenant")
            arguments["tenant"] = tenantID.databaseValue
        }
        if let service = query.service {
            conditions.append("account_id IN (SELECT id FROM service_accounts WHERE service = :service)")
            arguments["service"] = service.rawValue.databaseValue
        }
        if let before = query.beforeID {
            conditions.append("id < :before")
            arguments["before"] = before.databaseValue
        }
        let sql = """
            SELECT * FROM alerts \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY id DESC LIMIT :limit
            """
        let frozen = arguments
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: Self.named(frozen)).map(Self.alert(from:))
        }
    }

    public func unacknowledgedAlertCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL") ?? 0 }
    }

    public func deliveries(alertIDs: [Int64]) async throws -> [Int64: [AlertDelivery]] {
        guard !alertIDs.isEmpty else { return [:] }
        let ids = "[" + alertIDs.map(String.init).joined(separator: ",") + "]"
        return try await pool.read { db in
            Dictionary(
                grouping: try Row.fetchAll(
                    db, sql: "SELECT * FROM alert_deliveries WHERE alert_id IN (SELECT value FROM json_each(?)) ORDER BY alert_id, channel",
                    arguments: [ids]
                ).map(Self.delivery(from:)),
                by: \.alertID
            )
        }
    }

    public func pendingDeliveriesByChannel() async throws -> [ChannelBacklog] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT channel, count(*) AS n, min(next_attempt_at) AS oldest FROM alert_deliveries
                    WHERE state = 'pending' GROUP BY channel ORDER BY channel
                    """
            ).map { ChannelBacklog(channel: $0["channel"], pending: $0["n"], oldestPendingAt: Timestamp.date($0["oldest"])) }
        }
    }

    static func named(_ values: [String: DatabaseValue]) -> StatementArguments {
        StatementArguments(values.mapValues { $0 as (any DatabaseValueConvertible)? })
    }

    /// The columns of `row` named with `prefix`, without it: one table's part of a joined row.
    static func unprefixed(_ row: Row, _ prefix: String) -> Row {
        var columns: [String: DatabaseValue] = [:]
        for (name, value) in row where name.hasPrefix(prefix) {
            columns[String(name.dropFirst(prefix.count))] = value
        }
        return Row(columns)
    }
}
