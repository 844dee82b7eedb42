import Foundation
import Logging
import PostgresNIO
import TenantSyncCore

/// Writes fenced by a lease: they commit only if the lease is still held by its node with its epoch, checked in the
/// write's own transaction with the lease row share-locked, so no claim can take the lease over until the write has
/// committed or rolled back.
extension PostgreSQLStore {
    public func storeRefreshedTokenSet(
        grantID: Int64, tokens: TokenSet, nextRefreshAt: Date, expectedGeneration: Int, at date: Date, under lease: Lease
    ) async throws -> Bool {
        guard lease.kind == .tokenRefresh, lease.key == String(grantID) else { throw lease.lostError }
        let (accessSealed, refreshSealed) = try sealTokens(grantID: grantID, tokens)
        return try await durableTransaction { connection in
            try await Self.lockGrantThenRequire(connection, grantID: grantID, lease, logger: logger)
            return try await Self.writeRefreshedTokenSet(
                connection, grantID: grantID, accessSealed: accessSealed, refreshSealed: refreshSealed, tokens: tokens,
                nextRefreshAt: nextRefreshAt, expectedGeneration: expectedGeneration, at: date, logger: logger
            )
        }
    }

    public func applyDirectoryBatch(tenantID: String, batch: DirectoryBatch, at date: Date, under lease: Lease) async throws -> DirectoryChangeCounts {
        guard lease.kind == .sync, lease.key == tenantID else { throw lease.lostError }
        return try await fencedTransaction(lease) { connection in
            try await Self.apply(batch, tenantID: tenantID, at: date, connection: connection, logger: logger)
        }
    }

    public func holdSyncRun(
        runID: Int64, tenantID: String, removedUserIDs: [String], removedGroupIDs: [String], deltaLinks: [String: String], at date: Date,
        under lease: Lease
    ) async throws {
        guard lease.kind == .sync, lease.key == tenantID else { throw lease.lostError }
        try await fencedTransaction(lease) { connection in
            try await Self.writeHold(
                connection, runID: runID, removedUserIDs: removedUserIDs, removedGroupIDs: removedGroupIDs, deltaLinks: deltaLinks, at: date,
                logger: logger
            )
        }
    }

    public func recordTransientFailure(
        grantID: Int64, outcome: String, at date: Date, nextRefreshAt: Date,
        incident report: IncidentReport?, alert: @Sendable (Incident) -> NewAlert, channels: [String], under lease: Lease
    ) async throws -> TokenIncidentOutcome {
        guard lease.kind == .tokenRefresh, lease.key == String(grantID) else { throw lease.lostError }
        let outcome = try await transaction { connection in
            try await Self.lockGrantThenRequire(connection, grantID: grantID, lease, logger: logger)
            return try await Self.writeTransientFailure(
                connection, grantID: grantID, outcome: outcome, at: date, nextRefreshAt: nextRefreshAt, incident: report, alert: alert,
                channels: channels, logger: logger
            )
        }
        if outcome.alert != nil { outboxChanged() }
        return outcome
    }

    public func invalidateGrant(
        grantID: Int64, outcome: String, report: IncidentReport,
        alert: @Sendable (Incident) -> NewAlert, channels: [String], under lease: Lease
    ) async throws -> TokenIncidentOutcome {
        guard lease.kind == .tokenRefresh, lease.key == String(grantID) else { throw lease.lostError }
        let outcome = try await transaction { connection in
            try await Self.lockGrantThenRequire(connection, grantID: grantID, lease, logger: logger)
            return try await Self.writeInvalidation(connection, grantID: grantID, outcome: outcome, report: report, alert: alert, channels: channels, logger: logger)
        }
        if outcome.alert != nil { outboxChanged() }
        return outcome
    }

    /// The lease every transaction of the current task checks first, inside ``fenced(by:_:)``.
    @TaskLocal static var taskFence: Lease?

    public func fenced<Result: Sendable>(by lease: Lease, _ body: () async throws -> Result) async throws -> Result {
        try await Self.$taskFence.withValue(lease) { try await body() }
    }

    /// Runs `body` in one transaction that commits only while `lease` is held: the store's write paths for leased
    /// work other than token refresh (a sync's commit, a delivery's outcome) run their statements inside it.
    ///
    /// - Parameter durable: commit with `synchronous_commit` on, as token sets are stored.
    /// - Throws: `TenantSyncError` `leaseLost` (nothing written) when the lease is no longer held.
    func fencedTransaction<Result: Sendable>(
        _ lease: Lease, durable: Bool = false, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        if durable {
            return try await durableTransaction { connection in
                try await Self.requireLease(connection, lease, logger: logger)
                return try await body(connection)
            }
        }
        return try await transaction { connection in
            try await Self.requireLease(connection, lease, logger: logger)
            return try await body(connection)
        }
    }

    /// Locks the grant's row, then requires its lease: the order a due-grant claim locks them in (it skips a locked
    /// grant), so a fenced write and a claim never wait on each other in a cycle.
    static func lockGrantThenRequire(_ connection: PostgresConnection, grantID: Int64, _ lease: Lease, logger: Logger) async throws {
        try await connection.query("SELECT 1 FROM grants WHERE id = \(grantID) FOR UPDATE", logger: logger)
        try await requireLease(connection, lease, logger: logger)
    }

    /// Throws `leaseLost` unless `lease` is held by its node with its epoch and unexpired by the server's clock; the
    /// lease row stays share-locked until the transaction ends.
    static func requireLease(_ connection: PostgresConnection, _ lease: Lease, logger: Logger) async throws {
        let held = try await count(connection.query(
            """
            SELECT 1 FROM leases
            WHERE kind = \(lease.kind.rawValue) AND key = \(lease.key) AND holder = \(lease.holder) AND epoch = \(lease.epoch)
                AND expires_at > clock_timestamp()
            FOR SHARE
            """,
            logger: logger
        ))
        guard held == 1 else { throw lease.lostError }
    }
}
