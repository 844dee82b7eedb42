import struct Foundation.Date
import Synchronization

/// What ``LeaseStore`` means for the embedded SQLite store: one daemon, whose state directory is its own.
///
/// No other node can exist, so the leases live in this process's memory, not in the database: a claim returns the
/// due items no claim of this process holds (a restarted daemon holds nothing and claims everything due again), each
/// claim with a new epoch; expiry is judged by this machine's clock (the store's clock, as PostgreSQL's is for the
/// shared store). A fenced write passes while the lease is held with its epoch and unexpired, as in PostgreSQL; the
/// check and the write are not one transaction here, which is safe only because no other node can claim meanwhile.
public final class SingleNodeLeaseStore: LeaseStore {
    private struct State {
        var nodes: [String: (version: String, startedAt: Date, heartbeat: Date)] = [:]
        var leases: [LeaseItem: Lease] = [:]
        var epochs: [LeaseItem: Int64] = [:]
    }

    private let storage: any TokenStore & TokenLifecycleStore & DirectoryStore
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    /// - Parameters:
    ///   - storage: the SQLite store (due grants and token writes).
    ///   - now: the store's clock.
    public init(storage: any TokenStore & TokenLifecycleStore & DirectoryStore, now: @escaping @Sendable () -> Date = { Date() }) {
        self.storage = storage
        self.now = now
    }

    public func announceNode(name: String, version: String, startedAt: Date) async throws {
        let date = now()
        state.withLock { $0.nodes[name] = (version, startedAt, date) }
    }

    public func heartbeat(node: String) async throws {
        let date = now()
        let known = state.withLock { state -> Bool in
            guard state.nodes[node] != nil else { return false }
            state.nodes[node]?.heartbeat = date
            return true
        }
        guard known else {
            throw TenantSyncError(.nodeNotAnnounced, "Node \(node) sent a heartbeat before announcing itself.", context: ["node.name": node])
        }
    }

    public func nodes() async throws -> [NodeRecord] {
        let date = now()
        return state.withLock { state in
            state.nodes.keys.sorted().map { name in
                let node = state.nodes[name]!
                var held: [LeaseKind: Int] = [:]
                for lease in state.leases.values where lease.holder == name && lease.expiresAt > date { held[lease.kind, default: 0] += 1 }
                let silence = date.timeIntervalSince(node.heartbeat)
                return NodeRecord(
                    name: name, version: node.version, startedAt: node.startedAt, lastHeartbeatAt: node.heartbeat,
                    silentFor: .milliseconds(Int64((max(0, silence) * 1000).rounded())), leasesHeld: held
                )
            }
        }
    }

    public func claimDueGrants(node: String, limit: Int, duration: Duration) async throws -> [Lease] {
        guard limit > 0 else { return [] }
        let date = now()
        let heldCount = state.withLock { state in state.leases.values.filter { $0.kind == .tokenRefresh && $0.expiresAt > date }.count }
        let due = try await storage.grantsDue(before: date, limit: limit + heldCount)
        return claim(kind: .tokenRefresh, keys: due.map { String($0.id) }, node: node, limit: limit, duration: duration, at: date)
    }

    public func claim(kind: LeaseKind, keys: [String], node: String, limit: Int, duration: Duration) async throws -> [Lease] {
        claim(kind: kind, keys: keys, node: node, limit: limit, duration: duration, at: now())
    }

    private func claim(kind: LeaseKind, keys: [String], node: String, limit: Int, duration: Duration, at date: Date) -> [Lease] {
        let expiry = date.addingTimeInterval(Self.seconds(duration))
        return state.withLock { state in
            var claimed: [Lease] = []
            for key in keys where claimed.count < limit {
                let item = LeaseItem(kind: kind, key: key)
                if let current = state.leases[item], current.expiresAt > date { continue }
                let epoch = state.epochs[item, default: 0] + 1
                state.epochs[item] = epoch
                let lease = Lease(kind: kind, key: key, holder: node, epoch: epoch, expiresAt: expiry)
                state.leases[item] = lease
                claimed.append(lease)
            }
            return claimed
        }
    }

    public func renew(_ leases: [Lease], duration: Duration) async throws -> LeaseRenewal {
        let date = now()
        let expiry = date.addingTimeInterval(Self.seconds(duration))
        return state.withLock { state in
            var renewal = LeaseRenewal(renewed: [], lost: [])
            for lease in leases {
                if var current = state.leases[lease.item], Self.same(current, lease), current.expiresAt > date {
                    current.expiresAt = expiry
                    state.leases[lease.item] = current
                    renewal.renewed.append(current)
                } else {
                    renewal.lost.append(lease)
                }
            }
            return renewal
        }
    }

    public func release(_ leases: [Lease]) async throws {
        state.withLock { state in
            for lease in leases {
                if let current = state.leases[lease.item], Self.same(current, lease) {
                    state.leases[lease.item] = nil
                    // Forgotten, as in PostgreSQL: no write is fenced by a delivery lease's epoch.
                    if lease.kind == .delivery { state.epochs[lease.item] = nil }
                }
            }
        }
    }

    public func storeRefreshedTokenSet(
        grantID: Int64, tokens: TokenSet, nextRefreshAt: Date, expectedGeneration: Int, at date: Date, under lease: Lease
    ) async throws -> Bool {
        try requireHeld(lease, grantID: grantID)
        return try await storage.storeRefreshedTokenSet(
            grantID: grantID, tokens: tokens, nextRefreshAt: nextRefreshAt, expectedGeneration: expectedGeneration, at: date
        )
    }

    public func applyDirectoryBatch(tenantID: String, batch: DirectoryBatch, at date: Date, under lease: Lease) async throws -> DirectoryChangeCounts {
        try requireHeld(lease, kind: .sync, key: tenantID)
        return try await storage.applyDirectoryBatch(tenantID: tenantID, batch: batch, at: date)
    }

    /// One node: the lease is checked once, before `body` (no other node can take it meanwhile).
    public func fenced<Result: Sendable>(by lease: Lease, _ body: () async throws -> Result) async throws -> Result {
        try requireHeld(lease, kind: lease.kind, key: lease.key)
        return try await body()
    }

    public func holdSyncRun(
        runID: Int64, tenantID: String, removedUserIDs: [String], removedGroupIDs: [String], deltaLinks: [String: String], at date: Date,
        under lease: Lease
    ) async throws {
        try requireHeld(lease, kind: .sync, key: tenantID)
        try await storage.holdSyncRun(runID: runID, removedUserIDs: removedUserIDs, removedGroupIDs: removedGroupIDs, deltaLinks: deltaLinks, at: date)
    }

    public func recordTransientFailure(
        grantID: Int64, outcome: String, at date: Date, nextRefreshAt: Date,
        incident: IncidentReport?, alert: @Sendable (Incident) -> NewAlert, channels: [String], under lease: Lease
    ) async throws -> TokenIncidentOutcome {
        try requireHeld(lease, grantID: grantID)
        return try await storage.recordTransientFailure(
            grantID: grantID, outcome: outcome, at: date, nextRefreshAt: nextRefreshAt, incident: incident, alert: alert, channels: channels
        )
    }

    public func invalidateGrant(
        grantID: Int64, outcome: String, report: IncidentReport,
        alert: @Sendable (Incident) -> NewAlert, channels: [String], under lease: Lease
    ) async throws -> TokenIncidentOutcome {
        try requireHeld(lease, grantID: grantID)
        return try await storage.invalidateGrant(grantID: grantID, outcome: outcome, report: report, alert: alert, channels: channels)
    }

    /// Throws `leaseLost` unless `lease` is the grant's token-refresh lease, held with its epoch and unexpired now.
    private func requireHeld(_ lease: Lease, grantID: Int64) throws {
        try requireHeld(lease, kind: .tokenRefresh, key: String(grantID))
    }

    /// Throws `leaseLost` unless `lease` is on (`kind`, `key`), held with its epoch and unexpired now.
    private func requireHeld(_ lease: Lease, kind: LeaseKind, key: String) throws {
        let clock = now()
        let held = state.withLock { state in
            guard let current = state.leases[lease.item] else { return false }
            return Self.same(current, lease) && current.expiresAt > clock
        }
        guard lease.kind == kind, lease.key == key, held else { throw lease.lostError }
    }

    private static func same(_ current: Lease, _ lease: Lease) -> Bool {
        current.holder == lease.holder && current.epoch == lease.epoch
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
