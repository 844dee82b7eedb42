import Foundation
import GRDB
import TenantSyncCore

extension SQLiteStore: TokenStore {
    public func storeTokenSet(grantID: Int64, tokens: TokenSet, nextRefreshAt: Date) async throws {
        let accessSealed = try sealer.seal(tokens.accessToken, boundTo: Self.tokenPlace(grantID, "access"))
        let refreshSealed = try tokens.refreshToken.map { try sealer.seal($0, boundTo: Self.tokenPlace(grantID, "refresh")) }
        let now = Timestamp.text(.now)
        try await pool.write { db in
            try Self.upsertTokenSet(
                db, grantID: grantID, accessSealed: accessSealed, refreshSealed: refreshSealed, tokens: tokens,
                nextRefreshAt: nextRefreshAt, lastRefreshAt: tokens.obtainedAt, outcome: "ok"
            )
            try db.execute(sql: "UPDATE grants SET state = 'valid', updated_at = ? WHERE id = ?", arguments: [now, grantID])
            guard db.changesCount == 1 else {
                throw TenantSyncError(.accountNotFound, "No grant \(grantID) to store tokens for.", context: ["grant.id": "\(grantID)"])
            }
        }
    }

    public func tokenSet(grantID: Int64) async throws -> TokenSet? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM token_sets WHERE grant_id = ?", arguments: [grantID]).map { row in
                try tokenSet(grantID: grantID, row: row)
            }
        }
    }

    public func tokenStatus(grantID: Int64) async throws -> TokenStatus? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM token_sets WHERE grant_id = ?", arguments: [grantID]).map { row in
                TokenStatus(
                    grantID: grantID, scopes: Self.scopes(row["scopes"]),
                    obtainedAt: Timestamp.date(row["obtained_at"]) ?? .distantPast,
                    expiresAt: Timestamp.date(row["expires_at"]) ?? .distantPast,
                    refreshInAt: Timestamp.date(row["refresh_in_at"]),
                    nextRefreshAt: Timestamp.date(row["next_refresh_at"]) ?? .distantPast,
                    lastRefreshAt: Timestamp.date(row["last_refresh_at"]),
                    lastRefreshOutcome: row["last_refresh_outcome"],
                    consecutiveFailures: row["consecutive_failures"],
                    generation: row["generation"]
                )
            }
        }
    }

    /// Inspection for tests and the benchmark: no service needs it, so it is not part of the store protocols.
    public func recordRefreshFailure(grantID: Int64, outcome: String, at date: Date, nextRefreshAt: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE token_sets SET last_refresh_at = ?, last_refresh_outcome = ?, next_refresh_at = ?,
                        consecutive_failures = consecutive_failures + 1
                    WHERE grant_id = ?
                    """,
                arguments: [Timestamp.text(date), outcome, Timestamp.text(nextRefreshAt), grantID]
            )
        }
    }

    public func grantsDue(before date: Date, limit: Int) async throws -> [Grant] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT grants.* FROM token_sets JOIN grants ON grants.id = token_sets.grant_id
                    WHERE grants.state = 'valid' AND token_sets.next_refresh_at <= ?
                    ORDER BY token_sets.next_refresh_at LIMIT ?
                    """,
                arguments: [Timestamp.text(date), limit]
            ).map(Self.grant(from:))
        }
    }

    static func tokenPlace(_ grantID: Int64, _ kind: String) -> String { "token_sets:\(grantID):\(kind)" }

    static func scopes(_ text: String) -> [String] { text.split(separator: " ").map(String.init) }
}

extension SQLiteStore: IncidentStore {
    public func reportIncident(_ report: IncidentReport) async throws -> (incident: Incident, isNew: Bool) {
        let seen = Timestamp.text(report.seenAt)
        return try await pool.write { db in
            if let open = try Row.fetchOne(
                db, sql: "SELECT * FROM incidents WHERE grant_id = ? AND kind = ? AND resolved_at IS NULL",
                arguments: [report.grantID, report.kind.rawValue]
            ) {
                let id: Int64 = open["id"]
                try db.execute(
                    sql: """
                        UPDATE incidents SET last_seen_at = ?, occurrences = occurrences + 1,
                            error = coalesce(?, error), aadsts_code = coalesce(?, aadsts_code),
                            trace_id = coalesce(?, trace_id), correlation_id = coalesce(?, correlation_id)
                        WHERE id = ?
                        """,
                    arguments: [seen, report.error, report.aadstsCode, report.traceID, report.correlationID, id]
                )
                return (try Self.fetchIncident(db, id: id)!, false)
            }
            try db.execute(
                sql: """
                    INSERT INTO incidents (grant_id, account_id, kind, error, aadsts_code, trace_id, correlation_id,
                        first_seen_at, last_seen_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    report.grantID, report.accountID, report.kind.rawValue, report.error, report.aadstsCode,
                    report.traceID, report.correlationID, seen, seen,
                ]
            )
            return (try Self.fetchIncident(db, id: db.lastInsertedRowID)!, true)
        }
    }

    public func openIncidents() async throws -> [Incident] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM incidents WHERE resolved_at IS NULL ORDER BY id").map(Self.incident(from:))
        }
    }

    /// Inspection for tests and the benchmark: no service needs it, so it is not part of the store protocols.
    public func incidents(grantID: Int64) async throws -> [Incident] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM incidents WHERE grant_id = ? ORDER BY id", arguments: [grantID]).map(Self.incident(from:))
        }
    }

    /// Inspection for tests and the benchmark: no service needs it, so it is not part of the store protocols.
    public func resolveIncidents(grantID: Int64, at date: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE incidents SET resolved_at = ? WHERE grant_id = ? AND resolved_at IS NULL",
                arguments: [Timestamp.text(date), grantID]
            )
        }
    }

    static func fetchIncident(_ db: Database, id: Int64) throws -> Incident? {
        try Row.fetchOne(db, sql: "SELECT * FROM incidents WHERE id = ?", arguments: [id]).map(incident(from:))
    }

    static func incident(from row: Row) -> Incident {
        Incident(
            id: row["id"], grantID: row["grant_id"], accountID: row["account_id"],
            kind: Incident.Kind(rawValue: row["kind"]) ?? .tokenInvalid,
            error: row["error"], aadstsCode: row["aadsts_code"], traceID: row["trace_id"], correlationID: row["correlation_id"],
            firstSeenAt: Timestamp.date(row["first_seen_at"]) ?? .distantPast,
            lastSeenAt: Timestamp.date(row["last_seen_at"]) ?? .distantPast,
            occurrences: row["occurrences"],
            resolvedAt: Timestamp.date(row["resolved_at"])
        )
    }

    /// Writes a grant's whole token set (insert or replace), resetting its failure count and bumping its generation.
    static func upsertTokenSet(
        _ db: Database, grantID: Int64, accessSealed: Data, refreshSealed: Data?, tokens: TokenSet,
        nextRefreshAt: Date, lastRefreshAt: Date, outcome: String
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO token_sets (grant_id, access_token_sealed, refresh_token_sealed, scopes, obtained_at,
                    expires_at, refresh_in_at, next_refresh_at, last_refresh_at, last_refresh_outcome,
                    consecutive_failures, generation)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 1)
                ON CONFLICT(grant_id) DO UPDATE SET
                    access_token_sealed = excluded.access_token_sealed,
                    refresh_token_sealed = excluded.refresh_token_sealed,
                    scopes = excluded.scopes, obtained_at = excluded.obtained_at, expires_at = excluded.expires_at,
                    refresh_in_at = excluded.refresh_in_at, next_refresh_at = excluded.next_refresh_at,
                    last_refresh_at = excluded.last_refresh_at, last_refresh_outcome = excluded.last_refresh_outcome,
                    consecutive_failures = 0, generation = token_sets.generation + 1
                """,
            arguments: [
                grantID, accessSealed, refreshSealed, tokens.scopes.joined(separator: " "),
                Timestamp.text(tokens.obtainedAt), Timestamp.text(tokens.expiresAt), Timestamp.text(tokens.refreshInAt),
                Timestamp.text(nextRefreshAt), Timestamp.text(lastRefreshAt), outcome,
            ]
        )
    }
}
