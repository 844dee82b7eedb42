import Foundation
import Logging
import PostgresNIO
import TenantSyncCore

extension PostgreSQLStore: TokenStore {
    public func storeTokenSet(grantID: Int64, tokens: TokenSet, nextRefreshAt: Date) async throws {
        let (accessSealed, refreshSealed) = try sealTokens(grantID: grantID, tokens)
        let now = StoredDate.bound(.now)
        try await durableTransaction { connection in
            let changed = try await Self.count(connection.query(
                "UPDATE grants SET state = 'valid', updated_at = \(now) WHERE id = \(grantID) RETURNING 1", logger: logger
            ))
            guard changed == 1 else {
                throw TenantSyncError(.accountNotFound, "No grant \(grantID) to store tokens for.", context: ["grant.id": "\(grantID)"])
            }
            try await Self.upsertTokenSet(
                connection, grantID: grantID, accessSealed: accessSealed, refreshSealed: refreshSealed, tokens: tokens,
                nextRefreshAt: nextRefreshAt, lastRefreshAt: tokens.obtainedAt, outcome: "ok", logger: logger
            )
        }
    }

    public func tokenSet(grantID: Int64) async throws -> TokenSet? {
        let row = try await read { connection in try await Self.fetchTokenRow(connection, grantID: grantID, logger: logger) }
        return try row.map { try openTokens(grantID: grantID, $0) }
    }

    public func tokenStatus(grantID: Int64) async throws -> TokenStatus? {
        try await read { connection in
            try await Self.fetchTokenRow(connection, grantID: grantID, logger: logger).map { row in
                TokenStatus(
                    grantID: grantID, scopes: row.scopes, obtainedAt: row.obtainedAt, expiresAt: row.expiresAt, refreshInAt: row.refreshInAt,
                    nextRefreshAt: row.nextRefreshAt, lastRefreshAt: row.lastRefreshAt, lastRefreshOutcome: row.lastRefreshOutcome,
                    consecutiveFailures: row.consecutiveFailures, generation: row.generation
                )
            }
        }
    }

    public func grantsDue(before date: Date, limit: Int) async throws -> [Grant] {
        try await read { connection in
            try await PostgreSQLRows.all(
                connection.query(
                    """
                    SELECT \(unescaped: PostgreSQLRows.select(PostgreSQLRows.grantColumns, from: "g")) FROM token_sets ts JOIN grants g ON g.id = ts.grant_id
                    WHERE g.state = 'valid' AND ts.next_refresh_at <= \(StoredDate.bound(date))
                    ORDER BY ts.next_refresh_at LIMIT \(limit)
                    """,
                    logger: logger
                ),
                PostgreSQLRows.grant
            )
        }
    }

    // MARK: Token rows

    /// A `token_sets` row as stored: the tokens still sealed.
    struct TokenRow: Sendable {
        var accessSealed: Data
        var refreshSealed: Data?
        var scopes: [String]
        var obtainedAt: Date
        var expiresAt: Date
        var refreshInAt: Date?
        var nextRefreshAt: Date
        var lastRefreshAt: Date?
        var lastRefreshOutcome: String?
        var consecutiveFailures: Int
        var generation: Int
    }

    static func fetchTokenRow(_ connection: PostgresConnection, grantID: Int64, logger: Logger) async throws -> TokenRow? {
        try await PostgreSQLRows.first(
            connection.query(
                """
                SELECT access_token_sealed, refresh_token_sealed, scopes, obtained_at, expires_at, refresh_in_at, next_refresh_at,
                    last_refresh_at, last_refresh_outcome, consecutive_failures, generation
                FROM token_sets WHERE grant_id = \(grantID)
                """,
                logger: logger
            )
        ) { cells in
            TokenRow(
                accessSealed: try cells("access_token_sealed"), refreshSealed: try cells("refresh_token_sealed"),
                scopes: (try cells("scopes", as: String.self)).split(separator: " ").map(String.init),
                obtainedAt: try cells.date("obtained_at"), expiresAt: try cells.date("expires_at"),
                refreshInAt: try cells.optionalDate("refresh_in_at"), nextRefreshAt: try cells.date("next_refresh_at"),
                lastRefreshAt: try cells.optionalDate("last_refresh_at"), lastRefreshOutcome: try cells("last_refresh_outcome"),
                consecutiveFailures: try cells("consecutive_failures"), generation: try cells("generation")
            )
        }
    }

    func openTokens(grantID: Int64, _ row: TokenRow) throws -> TokenSet {
        TokenSet(
            accessToken: try sealer.open(row.accessSealed, boundTo: Self.tokenPlace(grantID, "access")),
            refreshToken: try row.refreshSealed.map { try sealer.open($0, boundTo: Self.tokenPlace(grantID, "refresh")) },
            scopes: row.scopes, obtainedAt: row.obtainedAt, expiresAt: row.expiresAt, refreshInAt: row.refreshInAt
        )
    }

    func sealTokens(grantID: Int64, _ tokens: TokenSet) throws -> (Data, Data?) {
        let access = try sealer.seal(tokens.accessToken, boundTo: Self.tokenPlace(grantID, "access"))
        let refresh = try tokens.refreshToken.map { try sealer.seal($0, boundTo: Self.tokenPlace(grantID, "refresh")) }
        return (access, refresh)
    }

    /// Writes a grant's whole token set (insert or replace), resetting its failure count and bumping its generation.
    static func upsertTokenSet(
        _ connection: PostgresConnection, grantID: Int64, accessSealed: Data, refreshSealed: Data?, tokens: TokenSet,
        nextRefreshAt: Date, lastRefreshAt: Date, outcome: String, logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO token_sets (grant_id, access_token_sealed, refresh_token_sealed, scopes, obtained_at, expires_at, refresh_in_at,
                next_refresh_at, last_refresh_at, last_refresh_outcome, consecutive_failures, generation)
            VALUES (\(grantID), \(accessSealed), \(refreshSealed), \(tokens.scopes.joined(separator: " ")), \(StoredDate.bound(tokens.obtainedAt)),
                \(StoredDate.bound(tokens.expiresAt)), \(StoredDate.bound(tokens.refreshInAt)), \(StoredDate.bound(nextRefreshAt)),
                \(StoredDate.bound(lastRefreshAt)), \(outcome), 0, 1)
            ON CONFLICT (grant_id) DO UPDATE SET
                access_token_sealed = excluded.access_token_sealed, refresh_token_sealed = excluded.refresh_token_sealed,
                scopes = excluded.scopes, obtained_at = excluded.obtained_at, expires_at = excluded.expires_at,
                refresh_in_at = excluded.refresh_in_at, next_refresh_at = excluded.next_refresh_at,
                last_refresh_at = excluded.last_refresh_at, last_refresh_outcome = excluded.last_refresh_outcome,
                consecutive_failures = 0, generation = token_sets.generation + 1
            """,
            logger: logger
        )
    }
}
