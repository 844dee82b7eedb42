import Foundation
import Logging
import PostgresNIO
import TenantSyncCore

/// Claims, renewals and releases of leases (`Migrations/postgresql/0003_cluster.sql`).
///
/// Every expiry is set and judged with the server's `clock_timestamp()`, so nodes' clocks need not agree. A claim
/// locks the rows it takes with `FOR UPDATE SKIP LOCKED`, so concurrent claimers pass each other instead of waiting,
/// and its write of the lease row only happens if that row is free (no holder, or expired) when the row is written:
/// two claims can never both take one item.
extension PostgreSQLStore: LeaseStore {
    public func claimDueGrants(node: String, limit: Int, duration: Duration) async throws -> [Lease] {
        guard limit > 0 else { return [] }
        let query = Self.claimDueGrantsQuery(node: node, limit: limit, milliseconds: Self.milliseconds(duration))
        return try await transaction { connection in
            try await Self.leases(connection.query(query, logger: logger))
        }
    }

    /// The claim of up to `limit` due grants no node holds, as `node`'s leases for `milliseconds`.
    ///
    /// Lock order grants → leases, as the fenced token write takes them: a grant being written is skipped.
    /// Due and held are judged at the transaction's start (`now()`, the server's clock, stable within the
    /// statement), so the planner walks token_sets_by_next_refresh in order and stops at `limit`, looking each
    /// lease up by its key; with the volatile clock_timestamp() here it read every token set and, for each due
    /// one, every held lease (0.6 to 1.3 s per claim with 30,000 grants due: Benchmarks/cluster.py). A lease ending
    /// during the statement is only taken at the next claim; the takeover itself is still judged by
    /// clock_timestamp() in the upsert's `WHERE`.
    static func claimDueGrantsQuery(node: String, limit: Int, milliseconds: Double) -> PostgresQuery {
        """
        WITH due AS (
            SELECT ts.grant_id::text AS key, ts.next_refresh_at FROM token_sets ts JOIN grants g ON g.id = ts.grant_id
            WHERE g.state = 'valid' AND ts.next_refresh_at <= now()
                AND NOT EXISTS (
                    SELECT 1 FROM leases held WHERE held.kind = 'token-refresh' AND held.key = ts.grant_id::text
                        AND held.holder IS NOT NULL AND held.expires_at > now())
            ORDER BY ts.next_refresh_at
            LIMIT \(limit)
            FOR UPDATE OF g SKIP LOCKED
        )
        INSERT INTO leases AS l (kind, key, holder, epoch, expires_at)
        SELECT 'token-refresh', key, \(node), 1, clock_timestamp() + interval '1 millisecond' * \(milliseconds) FROM due
        ON CONFLICT (kind, key) DO UPDATE SET holder = excluded.holder, epoch = l.epoch + 1, expires_at = excluded.expires_at
            WHERE l.holder IS NULL OR l.expires_at <= clock_timestamp()
        RETURNING l.kind, l.key, l.holder, l.epoch, l.expires_at
        """
    }

    public func claim(kind: LeaseKind, keys: [String], node: String, limit: Int, duration: Duration) async throws -> [Lease] {
        guard limit > 0, !keys.isEmpty else { return [] }
        let milliseconds = Self.milliseconds(duration)
        return try await transaction { connection in
            // A row for every item first (free, epoch 0), so the claim below can lock and skip rows like the due claim.
            try await connection.query(
                """
                INSERT INTO leases (kind, key, holder, epoch, expires_at)
                SELECT \(kind.rawValue), key, NULL, 0, clock_timestamp() FROM unnest(\(keys)::text[]) AS given(key)
                ON CONFLICT (kind, key) DO NOTHING
                """,
                logger: logger
            )
            return try await Self.leases(connection.query(
                """
                WITH free AS (
                    SELECT key FROM leases
                    WHERE kind = \(kind.rawValue) AND key = ANY(\(keys)::text[]) AND (holder IS NULL OR expires_at <= clock_timestamp())
                    ORDER BY array_position(\(keys)::text[], key)
                    LIMIT \(limit)
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE leases l SET holder = \(node), epoch = l.epoch + 1, expires_at = clock_timestamp() + interval '1 millisecond' * \(milliseconds)
                FROM free WHERE l.kind = \(kind.rawValue) AND l.key = free.key
                RETURNING l.kind, l.key, l.holder, l.epoch, l.expires_at
                """,
                logger: logger
            ))
        }
    }

    public func renew(_ leases: [Lease], duration: Duration) async throws -> LeaseRenewal {
        guard !leases.isEmpty else { return LeaseRenewal(renewed: [], lost: []) }
        let milliseconds = Self.milliseconds(duration)
        let renewed = try await transaction { connection in
            try await Self.leases(connection.query(
                """
                UPDATE leases l SET expires_at = clock_timestamp() + interval '1 millisecond' * \(milliseconds)
                FROM unnest(\(leases.map(\.kind.rawValue))::text[], \(leases.map(\.key))::text[], \(leases.map(\.holder))::text[],
                    \(leases.map(\.epoch))::int8[]) AS given(kind, key, holder, epoch)
                WHERE l.kind = given.kind AND l.key = given.key AND l.holder = given.holder AND l.epoch = given.epoch
                    AND l.expires_at > clock_timestamp()
                RETURNING l.kind, l.key, l.holder, l.epoch, l.expires_at
                """,
                logger: logger
            ))
        }
        let kept = Set(renewed.map(\.item))
        return LeaseRenewal(renewed: renewed, lost: leases.filter { !kept.contains($0.item) })
    }

    public func release(_ leases: [Lease]) async throws {
        guard !leases.isEmpty else { return }
        try await transaction { connection in
            // Delivery leases are forgotten (no write is fenced by their epoch; a row per alert and channel would
            // grow with the outbox); the others keep their row, so that their epoch only ever grows.
            try await connection.query(
                """
                DELETE FROM leases l
                USING unnest(\(leases.map(\.kind.rawValue))::text[], \(leases.map(\.key))::text[], \(leases.map(\.holder))::text[],
                    \(leases.map(\.epoch))::int8[]) AS given(kind, key, holder, epoch)
                WHERE l.kind = 'delivery' AND l.kind = given.kind AND l.key = given.key AND l.holder = given.holder AND l.epoch = given.epoch
                """,
                logger: logger
            )
            try await connection.query(
                """
                UPDATE leases l SET holder = NULL, expires_at = clock_timestamp()
                FROM unnest(\(leases.map(\.kind.rawValue))::text[], \(leases.map(\.key))::text[], \(leases.map(\.holder))::text[],
                    \(leases.map(\.epoch))::int8[]) AS given(kind, key, holder, epoch)
                WHERE l.kind = given.kind AND l.key = given.key AND l.holder = given.holder AND l.epoch = given.epoch
                """,
                logger: logger
            )
        }
    }

    // MARK: Rows

    static func leases(_ rows: PostgresRowSequence) async throws -> [Lease] {
        try await PostgreSQLRows.all(rows) { cells in
            let kind: String = try cells("kind")
            guard let leaseKind = LeaseKind(rawValue: kind) else {
                throw TenantSyncError(.storeUnavailable, "The leases table holds an unknown kind \(kind).", context: ["lease.kind": kind])
            }
            return Lease(kind: leaseKind, key: try cells("key"), holder: try cells("holder"), epoch: try cells("epoch"), expiresAt: try cells.date("expires_at"))
        }
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}
