import Foundation
import GRDB
import TenantSyncCore

/// The metrics endpoint's read: five queries in one read transaction, whatever the number of tenants.
extension SQLiteStore: MetricsStateSource {
    public func metricsState(alertsAfter: Int64) async throws -> MetricsState {
        try await pool.read { db in
            // Grants with their token schedule. Pending grants (a consent still open) have no schedule yet.
            let grants = try Row.fetchAll(db, sql: """
                SELECT t.domain, a.service, g.name, g.state, ts.expires_at, ts.next_refresh_at, ts.last_refresh_at
                FROM grants g
                JOIN service_accounts a ON a.id = g.account_id
                JOIN tenants t ON t.id = a.tenant_id
                LEFT JOIN token_sets ts ON ts.grant_id = g.id
                """
            ).compactMap { row -> MetricsState.Grant? in
                guard let service = ServiceKind(rawValue: row[1]), let state = GrantState(rawValue: row[3]) else { return nil }
                return MetricsState.Grant(
                    tenant: row[0], service: service, grant: row[2], state: state, expiresAt: Timestamp.date(row[4]),
                    nextRefreshAt: Timestamp.date(row[5]), lastRefreshAt: Timestamp.date(row[6])
                )
            }
            let accounts = try Row.fetchAll(db, sql: """
                SELECT t.domain, a.service, a.state, a.client_secret_expires_at
                FROM service_accounts a JOIN tenants t ON t.id = a.tenant_id
                """
            ).compactMap { row -> MetricsState.Account? in
                guard let service = ServiceKind(rawValue: row[1]), let state = AccountState(rawValue: row[2]) else { return nil }
                return MetricsState.Account(tenant: row[0], service: service, state: state, clientSecretExpiresAt: Timestamp.date(row[3]))
            }
            // Per tenant, each subquery an index lookup: the newest start (sync_runs_by_tenant); the newest successful
            // run, walking back from the newest id (sync_runs_by_tenant_newest) past the failures since; a held run
            // (sync_runs_held); the directory's users (its primary key).
            let tenants = try Row.fetchAll(db, sql: """
                SELECT t.domain,
                    (SELECT max(started_at) FROM sync_runs r WHERE r.tenant_id = t.id),
                    (SELECT r.finished_at FROM sync_runs r WHERE r.tenant_id = t.id AND r.state = 'succeeded' ORDER BY r.id DESC LIMIT 1),
                    (SELECT count(*) FROM directory_users u WHERE u.tenant_id = t.id),
                    EXISTS (SELECT 1 FROM sync_runs r WHERE r.tenant_id = t.id AND r.state = 'held'),
                    \(Self.tenantIsScheduledSQL)
                FROM tenants t
                """, arguments: ["directoryServices": Self.directoryServicesJSON]
            ).map { row in
                MetricsState.TenantSync(
                    tenant: row[0], lastAttemptAt: Timestamp.date(row[1]), lastSuccessAt: Timestamp.date(row[2]),
                    directoryUsers: row[3], held: row[4], scheduled: row[5]
                )
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
