import Foundation
import PostgresNIO
import TenantSyncCore

/// The set-based reads of the control path: one query each, whatever the number of tenants.
extension PostgreSQLStore {
    /// The services whose accounts sync the tenant's directory (bound as one `text[]` parameter).
    static var directoryServices: [String] { ServiceKind.allCases.filter(\.sharesDirectoryScope).map(\.rawValue) }

    public func accountOverviews(_ query: AccountQuery) async throws -> [AccountOverview] {
        var binds = PostgresBindings()
        func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        let services = bind(Self.directoryServices)
        var conditions: [String] = []
        if let tenantID = query.tenantID { conditions.append("a.tenant_id = \(bind(tenantID))") }
        if let state = query.state { conditions.append("a.state = \(bind(state.rawValue))") }
        if let service = query.service { conditions.append("a.service = \(bind(service.rawValue))") }
        if query.needsAttention {
            conditions.append("a.id IN (\(Self.accountsNeedingAttentionSQL))")
        }
        if let after = query.afterID { conditions.append("a.id > \(bind(after))") }
        let limit = query.limit.map { "LIMIT \(bind(max($0, 0)))" } ?? ""
        let sql = """
            SELECT \(PostgreSQLRows.select(PostgreSQLRows.accountColumns, from: "a")),
                \(PostgreSQLRows.select(PostgreSQLRows.tenantColumns, from: "t", as: "t_")),
                \(PostgreSQLRows.select(PostgreSQLRows.runColumns, from: "r", as: "r_")),
                (t.sync_scope = 'all' AND EXISTS (
                    SELECT 1 FROM service_accounts s WHERE s.tenant_id = t.id AND s.state != 'provisioning'
                    AND s.service = ANY(\(services)::text[]))) AS tenant_is_scheduled,
                (SELECT min(ts.next_refresh_at) FROM grants g JOIN token_sets ts ON ts.grant_id = g.id
                    WHERE g.account_id = a.id AND g.state = 'valid') AS next_refresh_at,
                (SELECT string_agg(i.kind, ',' ORDER BY i.id) FROM incidents i
                    WHERE i.account_id = a.id AND i.resolved_at IS NULL) AS open_incident_kinds
            FROM service_accounts a
            JOIN tenants t ON t.id = a.tenant_id
            LEFT JOIN LATERAL (SELECT * FROM sync_runs WHERE tenant_id = a.tenant_id ORDER BY id DESC LIMIT 1) r ON true
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY a.id
            \(limit)
            """
        let statement = PostgresQuery(unsafeSQL: sql, binds: binds)
        return try await read { connection in
            try await PostgreSQLRows.all(connection.query(statement, logger: logger)) { cells in
                AccountOverview(
                    account: try PostgreSQLRows.account(cells), tenant: try PostgreSQLRows.tenant(cells.prefixed("t_")),
                    lastRun: cells.isNull("r_id") ? nil : try PostgreSQLRows.syncRun(cells.prefixed("r_")),
                    tenantIsScheduled: try cells("tenant_is_scheduled"),
                    nextRefreshAt: try cells.optionalDate("next_refresh_at"),
                    openIncidentKinds: (try cells("open_incident_kinds", as: String?.self) ?? "").split(separator: ",")
                        .compactMap { Incident.Kind(rawValue: String($0)) }
                )
            }
        }
    }

    /// The ids of the accounts that need attention: token-invalid ones by the state index, ones with an open incident by
    /// the open-incident index. A set, not a test per account: a fleet's 30,000 accounts are not each probed.
    static let accountsNeedingAttentionSQL = """
        SELECT id FROM service_accounts WHERE state = 'token-invalid'
        UNION SELECT account_id FROM incidents WHERE resolved_at IS NULL AND account_id IS NOT NULL
        """

    public func accountsNeedingAttentionCount() async throws -> Int {
        try await read { connection in
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT count(*) FROM (\(Self.accountsNeedingAttentionSQL)) needing"), logger: logger
            )
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }

    public func accountStateCounts() async throws -> AccountStateCounts {
        try await read { connection in
            var counts = AccountStateCounts()
            let rows = try await connection.query("SELECT state, count(*) FROM service_accounts GROUP BY state", logger: logger)
            for try await (state, count) in rows.decode((String, Int).self) {
                if let state = AccountState(rawValue: state) { counts.byState[state] = count }
            }
            return counts
        }
    }
}
