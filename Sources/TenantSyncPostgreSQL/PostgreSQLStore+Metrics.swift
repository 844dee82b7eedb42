import Foundation
import PostgresNIO
import TenantSyncCore

/// The metrics endpoint's read: the same seven set-based queries as the SQLite store's
/// (`Sources/TenantSyncStore/SQLiteStore+Metrics.swift`), in one read-only snapshot, whatever the number of tenants.
extension PostgreSQLStore: MetricsStateSource {
    public func metricsState(alertsAfter: Int64, knownVersions: [String: Int64]) async throws -> MetricsState {
        let services = Self.directoryServices
        return try await transaction { connection in
            // One snapshot for all seven reads, as SQLite's read transaction gives.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            // Every tenant's count of changes (schema version 5), then the rows of the tenants whose count moved since
            // the reader's last read, as in the SQLite store (past a quarter of the fleet, every row).
            let versions = try await PostgreSQLRows.all(
                connection.query("SELECT domain, metrics_version FROM tenants ORDER BY id", logger: logger)
            ) { cells in
                MetricsState.TenantVersion(tenant: try cells("domain"), version: try cells("metrics_version"))
            }
            let changedTenants = versions.filter { knownVersions[$0.tenant] != $0.version }
            let all = changedTenants.count * 4 >= versions.count
            // Matched as the unique index on lower(domain) holds them, so that each changed tenant is an index seek
            // (then its accounts, grants and tokens by their keys) rather than a scan of every grant.
            let changed = changedTenants.map { $0.tenant.lowercased() }
            // Nothing changed: the counts were the whole read.
            let readRows = all || !changed.isEmpty
            // Grants with their token schedule. Pending grants (a consent still open) have no schedule yet.
            let grants: [MetricsState.Grant] = if !readRows { [] } else { try await PostgreSQLRows.all(
                connection.query(
                    """
                    SELECT t.domain, a.service, g.name, g.state, ts.expires_at, ts.next_refresh_at, ts.last_refresh_at
                    FROM grants g
                    JOIN service_accounts a ON a.id = g.account_id
                    JOIN tenants t ON t.id = a.tenant_id
                    LEFT JOIN token_sets ts ON ts.grant_id = g.id
                    WHERE \(all) OR lower(t.domain) = ANY(\(changed)::text[])
                    """,
                    logger: logger
                )
            ) { cells -> MetricsState.Grant? in
                guard let service = ServiceKind(rawValue: try cells("service")), let state = GrantState(rawValue: try cells("state")) else {
                    return nil
                }
                return MetricsState.Grant(
                    tenant: try cells("domain"), service: service, grant: try cells("name"), state: state,
                    expiresAt: try cells.optionalDate("expires_at"), nextRefreshAt: try cells.optionalDate("next_refresh_at"),
                    lastRefreshAt: try cells.optionalDate("last_refresh_at")
                )
            }.compactMap { $0 } }
            let accounts: [MetricsState.Account] = if !readRows { [] } else { try await PostgreSQLRows.all(
                connection.query(
                    """
                    SELECT t.domain, a.service, a.state, a.client_secret_expires_at
                    FROM service_accounts a JOIN tenants t ON t.id = a.tenant_id
                    WHERE \(all) OR lower(t.domain) = ANY(\(changed)::text[])
                    """,
                    logger: logger
                )
            ) { cells -> MetricsState.Account? in
                guard let service = ServiceKind(rawValue: try cells("service")), let state = AccountState(rawValue: try cells("state")) else {
                    return nil
                }
                return MetricsState.Account(
                    tenant: try cells("domain"), service: service, state: state,
                    clientSecretExpiresAt: try cells.optionalDate("client_secret_expires_at")
                )
            }.compactMap { $0 } }
            // Per tenant, each subquery an index lookup, as in the SQLite store (its comment says which index).
            let tenants: [MetricsState.TenantSync] = if !readRows { [] } else { try await PostgreSQLRows.all(
                connection.query(
                    """
                    SELECT t.domain,
                        (SELECT max(started_at) FROM sync_runs r WHERE r.tenant_id = t.id) AS last_attempt,
                        (SELECT r.finished_at FROM sync_runs r WHERE r.tenant_id = t.id AND r.state = 'succeeded'
                            ORDER BY r.id DESC LIMIT 1) AS last_success,
                        (SELECT count(*) FROM directory_users u WHERE u.tenant_id = t.id) AS users,
                        EXISTS (SELECT 1 FROM sync_runs r WHERE r.tenant_id = t.id AND r.state = 'held') AS held,
                        (t.sync_scope = 'all' AND EXISTS (
                            SELECT 1 FROM service_accounts s WHERE s.tenant_id = t.id AND s.state != 'provisioning'
                            AND s.service = ANY(\(services)::text[]))) AS scheduled
                    FROM tenants t
                    WHERE \(all) OR lower(t.domain) = ANY(\(changed)::text[])
                    """,
                    logger: logger
                )
            ) { cells in
                MetricsState.TenantSync(
                    tenant: try cells("domain"), lastAttemptAt: try cells.optionalDate("last_attempt"),
                    lastSuccessAt: try cells.optionalDate("last_success"), directoryUsers: try cells("users"),
                    held: try cells("held"), scheduled: try cells("scheduled")
                )
            } }
            let outbox = try await PostgreSQLRows.all(
                connection.query(
                    """
                    SELECT d.channel, count(*) AS n, min(a.created_at) AS oldest
                    FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
                    WHERE d.state = 'pending'
                    GROUP BY d.channel
                    """,
                    logger: logger
                )
            ) { cells in
                MetricsState.OutboxChannel(channel: try cells("channel"), pending: try cells("n"), oldestPendingAt: try cells.optionalDate("oldest"))
            }
            let incidentsOpen = try await Self.one(
                connection.query("SELECT count(*) FROM incidents WHERE resolved_at IS NULL", logger: logger), Int.self
            ) ?? 0
            // Only alerts stored since the last read: the counter grows without re-reading the history.
            let newAlerts = try await PostgreSQLRows.all(
                connection.query(
                    "SELECT kind, severity, count(*) AS n, max(id) AS newest FROM alerts WHERE id > \(alertsAfter) GROUP BY kind, severity",
                    logger: logger
                )
            ) { cells in
                (count: MetricsState.AlertCount(kind: try cells("kind"), severity: try cells("severity"), count: try cells("n")),
                 newest: try cells("newest", as: Int64.self))
            }
            return MetricsState(
                grants: grants, accounts: accounts, tenants: tenants, outbox: outbox, incidentsOpen: incidentsOpen,
                newAlerts: newAlerts.map(\.count), newestAlertID: newAlerts.map(\.newest).max() ?? alertsAfter, versions: versions
            )
        }
    }
}
