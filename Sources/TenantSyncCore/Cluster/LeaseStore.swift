import struct Foundation.Date

/// Nodes, leases and fenced writes: how several daemons on one store share the work.
///
/// Expiry is judged by the store's clock, never by a node's. Each claim of an item gives it a new, larger epoch; the
/// fenced writes commit only if the lease is still held by its node with its epoch and unexpired, checked in the
/// write's own transaction.
public protocol LeaseStore: Sendable {
    /// Records (or re-records, after a restart) a node with its version and start time, heartbeat now.
    func announceNode(name: String, version: String, startedAt: Date) async throws

    /// Moves the node's heartbeat to now; throws `nodeNotAnnounced` for a node the store does not know.
    func heartbeat(node: String) async throws

    /// The nodes with their unexpired leases counted by kind, by name.
    func nodes() async throws -> [NodeRecord]

    /// Claims up to `limit` grants whose tokens are due (`next_refresh_at` at or before the store's now, grant valid)
    /// and that no node holds, for `duration`; each lease returned has a new epoch.
    func claimDueGrants(node: String, limit: Int, duration: Duration) async throws -> [Lease]

    /// Claims those of `keys` of `kind` that no node holds, for `duration` (the caller decided they are due: tenants
    /// for sync, outbox rows, consent sessions); each lease returned has a new epoch.
    func claim(kind: LeaseKind, keys: [String], node: String, limit: Int, duration: Duration) async throws -> [Lease]

    /// Extends by `duration` the given leases that the store still shows held with their epoch and unexpired.
    func renew(_ leases: [Lease], duration: Duration) async throws -> LeaseRenewal

    /// Ends the given leases at once (those still held with their epoch), so any node may claim their items.
    ///
    /// A released delivery lease is forgotten: no write is fenced by its epoch, and keeping a row per alert and
    /// channel would grow with the outbox; its item's next claim starts at epoch 1 again. Other kinds keep their
    /// epoch, which only ever grows.
    func release(_ leases: [Lease]) async throws

    /// Stores a refreshed token set as `TokenLifecycleStore.storeRefreshedTokenSet` does, only while `lease` (kind
    /// `tokenRefresh`, key the grant id) is held by its node with its epoch and unexpired, checked in the same
    /// transaction as the write.
    ///
    /// - Returns: `false` when the generation or the grant's state forbade the write (as the unfenced call).
    /// - Throws: `TenantSyncError` `leaseLost` when the lease is no longer held: nothing is stored.
    func storeRefreshedTokenSet(
        grantID: Int64, tokens: TokenSet, nextRefreshAt: Date, expectedGeneration: Int, at: Date, under lease: Lease
    ) async throws -> Bool

    /// Applies a directory batch as `DirectoryStore.applyDirectoryBatch` does, only while `lease` (kind `sync`, key
    /// the tenant id) is held, checked in the same transaction: a node that lost the tenant's lease (paused, cut off)
    /// cannot write its read of the directory, its removals or its delta links over the new holder's run.
    ///
    /// - Throws: `leaseLost` when the lease is no longer held: nothing is written.
    func applyDirectoryBatch(tenantID: String, batch: DirectoryBatch, at: Date, under lease: Lease) async throws -> DirectoryChangeCounts

    /// Runs `body` with every write this store makes in it (in the current task and its child tasks) fenced by `lease`:
    /// each write's transaction checks first that the lease is held by its node with its epoch and unexpired, and
    /// throws `leaseLost`, writing nothing, when it is not. For work whose writes are many and varied, such as a
    /// consent session of a provisioning (account state, grants, token sets, a pending consent).
    func fenced<Result: Sendable>(by lease: Lease, _ body: () async throws -> Result) async throws -> Result

    /// Holds a run's removals and delta links as `DirectoryStore.holdSyncRun` does, only while `lease` (kind `sync`, key
    /// `tenantID`, the run's tenant) is held, checked in the same transaction: a node that lost the tenant cannot leave
    /// its removals waiting for an operator's confirmation over the new holder's run.
    ///
    /// - Throws: `leaseLost` when the lease is no longer held: nothing is written, the run stays as it was.
    func holdSyncRun(
        runID: Int64, tenantID: String, removedUserIDs: [String], removedGroupIDs: [String], deltaLinks: [String: String], at: Date,
        under lease: Lease
    ) async throws

    /// Records a transient refresh failure as `TokenLifecycleStore.recordTransientFailure` does, only while `lease`
    /// (kind `tokenRefresh`, key the grant id) is held, checked in the same transaction.
    ///
    /// - Throws: `leaseLost` when the lease is no longer held: nothing is recorded, no alert is queued.
    func recordTransientFailure(
        grantID: Int64, outcome: String, at: Date, nextRefreshAt: Date,
        incident: IncidentReport?, alert: @Sendable (Incident) -> NewAlert, channels: [String], under lease: Lease
    ) async throws -> TokenIncidentOutcome

    /// Invalidates the grant as `TokenLifecycleStore.invalidateGrant` does, only while `lease` is held, checked in the
    /// same transaction: a node that lost the grant's lease cannot mark it invalid over the new holder's refresh.
    ///
    /// - Throws: `leaseLost` when the lease is no longer held: nothing is recorded, no alert is queued.
    func invalidateGrant(
        grantID: Int64, outcome: String, report: IncidentReport,
        alert: @Sendable (Incident) -> NewAlert, channels: [String], under lease: Lease
    ) async throws -> TokenIncidentOutcome
}
