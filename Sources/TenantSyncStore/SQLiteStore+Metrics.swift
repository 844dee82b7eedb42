import Foundation
import GRDB
import TenantSyncCore

/// The metrics endpoint's read: seven queries in one read transaction, whatever the number of tenants.
extension SQLiteStore: MetricsStateSource {
    public func metricsState(alertsAfter: Int64, knownVersions: [String: Int64]) async throws -> MetricsState {
        try await pool.read { db in
            // Every tenant's count of changes (schema version 13), then the rows of the tenants whose count moved since
            // the reader's last read: a quiet fleet's scrape reads the counts alone. Past a quarter of the fleet
            // (and on a first read) every row is read, in the same queries without a filter.
            var versions: [MetricsState.TenantVersion] = []
            var changed: [String] = []
            let versionRows = try Row.fetchCursor(db, sql: "SELECT domain, metrics_version FROM tenants")
            while let row = try versionRows.next() {
                let version = MetricsState.TenantVersion(tenant: row[0], version: row[1])
                if knownVersions[version.tenant] != version.version { changed.append(version.tenant) }
                versions.append(version)
            }
            let changedDomains: String? = changed.count * 4 >= versions.count ? nil : try Self.jsonArray(changed)
            // Filtered, each query starts from the changed tenants' index entries (the UNIQUE domain, then the accounts'
            // and grants' keys): no changed tenant, no row read.

            // Accounts first, with their tenant's domain: the grants name their account, and a fleet's 40,000 grants
            // then need neither a join per row to accounts and tenants nor a domain string each (they share the
            // account's). Rows through cursors, columns by position: `Row.fetchAll` copies each row, and a lookup by
            // name lower-cases the name at each access. Times come as Unix milliseconds computed by SQLite.
            var accounts: [MetricsState.Account] = []
            var accountByID: [Int64: (tenant: String, service: ServiceKind)] = [:]
            let accountRows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT a.id, t.domain, a.service, a.state, \(Timestamp.unixMillisecondsSQL("a.client_secret_expires_at"))
                    FROM service_accounts a JOIN tenants t ON t.id = a.tenant_id
                    \(changedDomains == nil ? "" : "WHERE t.domain IN (SELECT value FROM json_each(?))")
                    """,
                arguments: StatementArguments(changedDomains.map { [$0] } ?? [])
            )
            while let row = try accountRows.next() {
                guard let service = ServiceKind(rawValue: row[2]), let state = AccountState(rawValue: row[3]) else { continue }
                let tenant: String = row[1]
                accountByID[row[0]] = (tenant, service)
                accounts.append(MetricsState.Account(
                    tenant: tenant, service: service, state: state, clientSecretExpiresAt: Timestamp.date(unixMilliseconds: row[4])
                ))
            }
            // Grants with their token schedule (pending grants, a consent still open, have none yet), the schedule
            // read from an index that holds it (token_sets_schedule, schema version 12): the table's rows carry the sealed tokens, about
            // two kilobytes each, which a scrape has no use for.
            var grants: [MetricsState.Grant] = []
            grants.reserveCapacity(accounts.count * 2)
            let grantRows = try changedDomains == nil
                ? Row.fetchCursor(db, sql: Self.metricsGrantsSQL)
                : Row.fetchCursor(
                    db, sql: Self.metricsGrantsSQL + " WHERE g.account_id IN (SELECT value FROM json_each(?))",
                    arguments: [String(decoding: try JSONEncoder().encode(Array(accountByID.keys)), as: UTF8.self)]
                )
            while let row = try grantRows.next() {
                guard let account = accountByID[row[0]], let state = GrantState(rawValue: row[2]) else { continue }
                grants.append(MetricsState.Grant(
                    tenant: account.tenant, service: account.service, grant: row[1], state: state,
                    expiresAt: Timestamp.date(unixMilliseconds: row[3]), nextRefreshAt: Timestamp.date(unixMilliseconds: row[4]),
                    lastRefreshAt: Timestamp.date(unixMilliseconds: row[5])
                ))
            }
            // Per tenant: the newest start kept in the tenant's row (schema version 10, as the daily plan reads it); each
            // subquery an index lookup: the newest successful run and its end (sync_runs_succeeded_by_tenant, schema
            // version 12); a held run (sync_runs_held); the directory's users (its primary key).
            var tenants: [MetricsState.TenantSync] = []
            let tenantRows = try changedDomains.map { domains in
                try Row.fetchCursor(
                    db, sql: Self.metricsTenantsSQL + " WHERE t.domain IN (SELECT value FROM json_each(:changed))",
                    arguments: ["directoryServices": Self.directoryServicesJSON, "changed": domains]
                )
            } ?? Row.fetchCursor(db, sql: Self.metricsTenantsSQL, arguments: ["directoryServices": Self.directoryServicesJSON])
            while let row = try tenantRows.next() {
                tenants.append(MetricsState.TenantSync(
                    tenant: row[0], lastAttemptAt: Timestamp.date(unixMilliseconds: row[1]),
                    lastSuccessAt: Timestamp.date(unixMilliseconds: row[2]),
                    directoryUsers: row[3], held: row[4], scheduled: row[5]
                ))
            }
            let outbox = try Row.fetchAll(db, sql: """
                SELECT d.channel, count(*), min(a.created_at)
                FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
                WHERE d.state = 'pending'
                GROUP BY d.channel
                """
            ).map { row in
                MetricsState.OutboxChannel(channel: row[0], pending: row[1], oldestPendingAt: Timestamp.date(row[2]))
            }
            let incidentsOpen = try Int.fetchOne(db, sql: "SELECT count(*) FROM incidents WHERE resolved_at IS NULL") ?? 0
            // Only alerts stored since the last read: the counter grows without re-reading the history.
            let newAlerts = try Row.fetchAll(
                db, sql: "SELECT kind, severity, count(*), max(id) FROM alerts WHERE id > ? GROUP BY kind, severity",
                arguments: [alertsAfter]
            )
            let newest = newAlerts.compactMap { $0[3] as Int64? }.max() ?? alertsAfter
            return MetricsState(
                grants: grants, accounts: accounts, tenants: tenants, outbox: outbox, incidentsOpen: incidentsOpen,
                newAlerts: newAlerts.map { MetricsState.AlertCount(kind: $0[0], severity: $0[1], count: $0[2]) },
                newestAlertID: newest, versions: versions
            )
        }
    }

    /// Every grant with its token schedule, read from token_sets_schedule (named, so that the planner never reads the
    /// table's rows, which carry the sealed tokens).
    static let metricsGrantsSQL = """
        SELECT g.account_id, g.name, g.state, \(Timestamp.unixMillisecondsSQL("ts.expires_at")),
            \(Timestamp.unixMillisecondsSQL("ts.next_refresh_at")), \(Timestamp.unixMillisecondsSQL("ts.last_refresh_at"))
        FROM grants g
        LEFT JOIN token_sets ts INDEXED BY token_sets_schedule ON ts.grant_id = g.id
        """

    /// Every tenant's sync facts, each an index lookup.
    static let metricsTenantsSQL = """
        SELECT t.domain,
            \(Timestamp.unixMillisecondsSQL("t.last_run_started_at")),
            \(Timestamp.unixMillisecondsSQL(
                "(SELECT r.finished_at FROM sync_runs r WHERE r.tenant_id = t.id AND r.state = 'succeeded' ORDER BY r.id DESC LIMIT 1)"
            )),
            (SELECT count(*) FROM directory_users u WHERE u.tenant_id = t.id),
            EXISTS (SELECT 1 FROM sync_runs r WHERE r.tenant_id = t.id AND r.state = 'held'),
            \(SQLiteStore.tenantIsScheduledSQL)
        FROM tenants t
        """
}
