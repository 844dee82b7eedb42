import Foundation
import GRDB
import TenantSyncCore

/// The metrics endpoint's read: five queries in one read transaction, whatever the number of tenants.
extension SQLiteStore: MetricsStateSource {
    public func metricsState(alertsAfter: Int64) async throws -> MetricsState {
        try await pool.read { db in
            // Grants with their token schedule. Pending grants (a consent still open) have no schedule yet.
            // Rows through cursors, columns by position: `Row.fetchAll` copies each of the 40,000 grant rows of a fleet
            // and a lookup by name lower-cases the name at each access.
            var grants: [MetricsState.Grant] = []
            let grantRows = try Row.fetchCursor(db, sql: """
                SELECT t.domain, a.service, g.name, g.state, ts.expires_at, ts.next_refresh_at, ts.last_refresh_at
                FROM grants g
                JOIN service_accounts a ON a.id = g.account_id
                JOIN tenants t ON t.id = a.tenant_id
                LEFT JOIN token_sets ts ON ts.grant_id = g.id
                """
            )
            while let row = try grantRows.next() {
                guard let service = ServiceKind(rawValue: row[1]), let state = GrantState(rawValue: row[3]) else { continue }
                grants.append(MetricsState.Grant(
                    tenant: row[0], service: service, grant: row[2], state: state, expiresAt: Timestamp.date(row[4]),
                    nextRefreshAt: Timestamp.date(row[5]), lastRefreshAt: Timestamp.date(row[6])
                ))
            }
            var accounts: [MetricsState.Account] = []
            let accountRows = try Row.fetchCursor(db, sql: """
                SELECT t.domain, a.service, a.state, a.client_secret_expires_at
                FROM service_accounts a JOIN tenants t ON t.id = a.tenant_id
                """
            )
            while let row = try accountRows.next() {
                guard let service = ServiceKind(rawValue: row[1]), let state = AccountState(rawValue: row[2]) else { continue }
                accounts.append(MetricsState.Account(tenant: row[0], service: service, state: state, clientSecretExpiresAt: Timestamp.date(row[3])))
            }
            // Per tenant: the newest start kept in the tenant's row (schema version 10, as the daily plan reads it); each
            // subquery an index lookup: the newest successful run, walking back from the newest id
            // (sync_runs_by_tenant_newest) past the failures since; a held run (sync_runs_held); the directory's users
            // (its primary key).
            var tenants: [MetricsState.TenantSync] = []
            let tenantRows = try Row.fetchCursor(db, sql: """
                SELECT t.domain,
                    t.last_run_started_at,
                    (SELECT r.finished_at FROM sync_runs r WHERE r.tenant_id = t.id AND r.state = 'succeeded' ORDER BY r.id DESC LIMIT 1),
                    (SELECT count(*) FROM directory_users u WHERE u.tenant_id = t.id),
                    EXISTS (SELECT 1 FROM sync_runs r WHERE r.tenant_id = t.id AND r.state = 'held'),
                    \(Self.tenantIsScheduledSQL)
                FROM tenants t
                """, arguments: ["directoryServices": Self.directoryServicesJSON]
            )
            while let row = try tenantRows.next() {
                tenants.append(MetricsState.TenantSync(
                    tenant: row[0], lastAttemptAt: Timestamp.date(row[1]), lastSuccessAt: Timestamp.date(row[2]),
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
                newestAlertID: newest
            )
        }
    }
}
