import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TenantSyncCore

/// This daemon as one node of a cluster on a shared store: it announces itself, sends a heartbeat, and keeps the
/// leases its services' work holds, renewing them and forgetting at once any it loses.
///
/// The decisions (when to renew, when a lease can no longer be trusted) are ``LeaseKeeper``'s; this service does
/// the IO around it. The services claim through it (``WorkLeasing``), so that every lease they hold is renewed while
/// they work and released when they are done.
public final class ClusterNode: Service, WorkLeasing {
    public let nodeName: String
    public let leaseStore: any LeaseStore
    let version: String
    let startedAt: Date
    let leaseDuration: Duration
    let logger: Logger
    private let keeper: Mutex<LeaseKeeper<ContinuousClock>>
    private let wakeSignal = WakeSignal()
    /// Set while heartbeats fail (the store unreachable): when the first failed, and how many in a row.
    private let heartbeatFailure = Mutex<(since: Date, failures: Int)?>(nil)

    public init(name: String, store: any LeaseStore, version: String, startedAt: Date, leaseDuration: Duration, logger: Logger) {
        nodeName = name
        leaseStore = store
        self.version = version
        self.startedAt = startedAt
        self.leaseDuration = leaseDuration
        self.logger = logger
        keeper = Mutex(LeaseKeeper(configuration: .init(leaseDuration: leaseDuration)))
    }

    /// Records the node in the store; called once at start, before any service claims work.
    public func announce() async throws {
        try await leaseStore.announceNode(name: nodeName, version: version, startedAt: startedAt)
        logger.info("Cluster node announced", metadata: ["node.name": "\(nodeName)", "cluster.lease_duration": "\(leaseDuration)"])
    }

    /// How often the node's heartbeat is sent: a third of the lease duration, as leases are renewed.
    var heartbeatInterval: Duration { leaseDuration / 3 }

    /// Since when heartbeats fail, while they do (the status reports it).
    public var heartbeatFailingSince: Date? { heartbeatFailure.withLock { $0?.since } }

    /// The leases this node holds now.
    public var heldLeases: [Lease] { keeper.withLock { $0.leases } }

    public func run() async throws {
        var nextHeartbeat = ContinuousClock.now.advanced(by: heartbeatInterval)
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let now = ContinuousClock.now
            if now >= nextHeartbeat {
                await sendHeartbeat()
                nextHeartbeat = now.advanced(by: heartbeatInterval)
            }
            let actions = keeper.withLock { $0.tick(now: now) }
            report(lost: actions.lost, reason: "not renewed in time")
            if !actions.renew.isEmpty { await renew(actions.renew) }
            let next = keeper.withLock { $0.nextTick }.map { min($0, nextHeartbeat) } ?? nextHeartbeat
            await sleep(until: next)
        }
        // Stopping: what the services still hold is theirs no longer; another node may take it at once.
        let held = keeper.withLock { $0.leases }
        await release(held)
    }

    // MARK: WorkLeasing

    public func claim(kind: LeaseKind, keys: [String], limit: Int) async throws -> [Lease] {
        let sentAt = ContinuousClock.now
        let leases = try await leaseStore.claim(kind: kind, keys: keys, node: nodeName, limit: limit, duration: leaseDuration)
        kept(leases, sentAt: sentAt)
        return leases
    }

    public func claimDueGrants(limit: Int) async throws -> [Lease] {
        let sentAt = ContinuousClock.now
        let leases = try await leaseStore.claimDueGrants(node: nodeName, limit: limit, duration: leaseDuration)
        kept(leases, sentAt: sentAt)
        return leases
    }

    public func holds(_ lease: Lease) -> Bool {
        keeper.withLock { $0.holds(lease, at: .now) }
    }

    public func release(_ leases: [Lease]) async {
        guard !leases.isEmpty else { return }
        keeper.withLock { $0.released(leases) }
        do {
            try await leaseStore.release(leases)
        } catch {
            logger.warning(
                "Leases could not be released; they end at their expiry",
                metadata: ["lease.count": "\(leases.count)", "node.name": "\(nodeName)", "error": "\(error)"]
            )
        }
    }

    // MARK: IO around the keeper

    private func kept(_ leases: [Lease], sentAt: ContinuousClock.Instant) {
        guard !leases.isEmpty else { return }
        keeper.withLock { $0.claimed(leases, sentAt: sentAt) }
        // The loop may be asleep until a later tick than these leases' first renewal.
        wakeSignal.signal()
    }

    private func renew(_ leases: [Lease]) async {
        let sentAt = ContinuousClock.now
        do {
            let renewal = try await leaseStore.renew(leases, duration: leaseDuration)
            let lost = keeper.withLock { $0.renewalAnswered(renewal, sentAt: sentAt) }
            report(lost: lost, reason: "taken over or expired in the store")
        } catch {
            keeper.withLock { $0.renewalFailed(leases, at: .now) }
            logger.warning(
                "Lease renewal failed; retrying while the leases are still trusted",
                metadata: ["lease.count": "\(leases.count)", "node.name": "\(nodeName)", "error": "\(error)"]
            )
        }
    }

    private func report(lost: [Lease], reason: String) {
        for lease in lost {
            logger.warning(
                "Lease lost; the work under it stops and another node may take it over",
                metadata: [
                    "lease.kind": "\(lease.kind.rawValue)", "lease.key": "\(lease.key)", "lease.epoch": "\(lease.epoch)",
                    "lease.lost_reason": "\(reason)", "node.name": "\(nodeName)",
                ]
            )
        }
    }

    private func sendHeartbeat() async {
        do {
            do {
                try await leaseStore.heartbeat(node: nodeName)
            } catch let error as TenantSyncError where error.code == .nodeNotAnnounced {
                // The row was removed (an operator cleaned up, or the store was restored): announce again.
                try await announce()
            }
            if let ended = heartbeatFailure.withLock({ failure in defer { failure = nil }; return failure }) {
                logger.notice(
                    "The cluster store answers heartbeats again",
                    metadata: ["node.name": "\(nodeName)", "store.failing_since": "\(ended.since)", "store.failed_heartbeats": "\(ended.failures)"]
                )
            }
        } catch {
            let failures = heartbeatFailure.withLock { failure -> Int in
                let count = (failure?.failures ?? 0) + 1
                failure = (failure?.since ?? Date(), count)
                return count
            }
            if failures == 1 {
                logger.warning("Cluster heartbeat failed; retrying", metadata: ["node.name": "\(nodeName)", "error": "\(error)"])
            }
        }
    }

    private func sleep(until deadline: ContinuousClock.Instant) async {
        let signal = wakeSignal
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await ContinuousClock().sleep(until: deadline) }
                group.addTask { await signal.wait() }
                await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            signal.signal()
        }
    }
}
