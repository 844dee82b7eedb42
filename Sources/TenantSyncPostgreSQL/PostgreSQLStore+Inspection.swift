import Foundation
import TenantSyncCore

/// Inspection for tests and the benchmark, as the SQLite store has it: no service needs these, so they are not part
/// of the store protocols.
extension PostgreSQLStore {
    public func setGrantState(id: Int64, state: GrantState) async throws {
        _ = try await changedRows("UPDATE grants SET state = \(state.rawValue), updated_at = \(StoredDate.bound(.now)) WHERE id = \(id) RETURNING 1")
    }

    public func recordRefreshFailure(grantID: Int64, outcome: String, at date: Date, nextRefreshAt: Date) async throws {
        try await transaction { connection in
            try await Self.recordFailure(connection, grantID: grantID, outcome: outcome, at: date, nextRefreshAt: nextRefreshAt, logger: logger)
        }
    }

    public func incidents(grantID: Int64) async throws -> [Incident] {
        try await read { connection in
            try await PostgreSQLRows.all(
                connection.query(
                    "SELECT \(unescaped: PostgreSQLRows.incidentColumns.joined(separator: ", ")) FROM incidents WHERE grant_id = \(grantID) ORDER BY id",
                    logger: logger
                ),
                PostgreSQLRows.incident
            )
        }
    }

    public func resolveIncidents(grantID: Int64, at date: Date) async throws {
        _ = try await changedRows(
            "UPDATE incidents SET resolved_at = \(StoredDate.bound(date)) WHERE grant_id = \(grantID) AND resolved_at IS NULL RETURNING 1"
        )
    }
}
