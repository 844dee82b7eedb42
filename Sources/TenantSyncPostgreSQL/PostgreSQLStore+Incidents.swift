import Foundation
import Logging
import PostgresNIO
import TenantSyncCore

extension PostgreSQLStore: IncidentStore {
    public func reportIncident(_ report: IncidentReport) async throws -> (incident: Incident, isNew: Bool) {
        try await transaction { connection in try await Self.openOrRepeatIncident(connection, report, logger: logger) }
    }

    public func openIncidents() async throws -> [Incident] {
        try await read { connection in
            try await PostgreSQLRows.all(
                connection.query(
                    "SELECT \(unescaped: PostgreSQLRows.incidentColumns.joined(separator: ", ")) FROM incidents WHERE resolved_at IS NULL ORDER BY id",
                    logger: logger
                ),
                PostgreSQLRows.incident
            )
        }
    }

    public func openIncidents(accountID: Int64) async throws -> [Incident] {
        try await read { connection in
            try await PostgreSQLRows.all(
                connection.query(
                    """
                    SELECT \(unescaped: PostgreSQLRows.incidentColumns.joined(separator: ", ")) FROM incidents
                    WHERE account_id = \(accountID) AND resolved_at IS NULL ORDER BY id
                    """,
                    logger: logger
                ),
                PostgreSQLRows.incident
            )
        }
    }

    /// Opens the incident or records another occurrence of the open one, in one statement: the partial unique index
    /// `incidents_one_open_per_grant` arbitrates, so two nodes reporting at once still make one incident.
    static func openOrRepeatIncident(_ connection: PostgresConnection, _ report: IncidentReport, logger: Logger) async throws -> (incident: Incident, isNew: Bool) {
        let seen = StoredDate.bound(report.seenAt)
        let rows = try await connection.query(
            """
            INSERT INTO incidents (grant_id, account_id, kind, error, aadsts_code, trace_id, correlation_id, first_seen_at, last_seen_at)
            VALUES (\(report.grantID), \(report.accountID), \(report.kind.rawValue), \(report.error), \(report.aadstsCode), \(report.traceID),
                \(report.correlationID), \(seen), \(seen))
            ON CONFLICT (grant_id, kind) WHERE resolved_at IS NULL DO UPDATE SET
                last_seen_at = excluded.last_seen_at, occurrences = incidents.occurrences + 1,
                error = coalesce(excluded.error, incidents.error), aadsts_code = coalesce(excluded.aadsts_code, incidents.aadsts_code),
                trace_id = coalesce(excluded.trace_id, incidents.trace_id),
                correlation_id = coalesce(excluded.correlation_id, incidents.correlation_id)
            RETURNING \(unescaped: PostgreSQLRows.incidentColumns.joined(separator: ", ")), (xmax = 0) AS inserted
            """,
            logger: logger
        )
        guard let result = try await PostgreSQLRows.first(rows, { cells in (try PostgreSQLRows.incident(cells), try cells("inserted", as: Bool.self)) }) else {
            throw TenantSyncError(.storeUnavailable, "An incident vanished right after it was stored.")
        }
        return (result.0, result.1)
    }
}
