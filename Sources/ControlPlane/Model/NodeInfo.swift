import struct Foundation.Date
import TenantSyncCore

/// One daemon of the cluster sharing the database, as `ListNodes` reports it.
public struct NodeInfo: Codable, Sendable, Equatable {
    /// How many unexpired leases of one kind the node holds.
    public struct LeaseCount: Codable, Sendable, Equatable {
        /// `token-refresh`, `sync`, `delivery` or `consent-session`: a string, so that a newer daemon's kinds still decode.
        public var kind: String
        public var count: Int

        public init(kind: String, count: Int) {
            self.kind = kind
            self.count = count
        }
    }

    /// Its `[daemon] node_name`.
    public var name: String
    public var version: String
    public var startedAt: Date
    public var lastHeartbeatAt: Date
    /// Whole seconds since the last heartbeat, by the database's clock.
    public var silentSeconds: Int
    /// Silent for less than the lease duration: a node past it may be dead, and its leases go to the others.
    public var alive: Bool
    /// Kinds without a lease are absent.
    public var leases: [LeaseCount]
    /// The daemon that answered the call.
    public var answering: Bool

    public init(
        name: String, version: String, startedAt: Date, lastHeartbeatAt: Date, silentSeconds: Int, alive: Bool, leases: [LeaseCount], answering: Bool
    ) {
        self.name = name
        self.version = version
        self.startedAt = startedAt
        self.lastHeartbeatAt = lastHeartbeatAt
        self.silentSeconds = silentSeconds
        self.alive = alive
        self.leases = leases
        self.answering = answering
    }

    /// A node as the store records it; alive while silent for less than `leaseDuration` (`[cluster] lease_duration`).
    public init(_ record: NodeRecord, leaseDuration: Duration, answering: Bool) {
        self.init(
            name: record.name, version: record.version, startedAt: record.startedAt, lastHeartbeatAt: record.lastHeartbeatAt,
            silentSeconds: Int(record.silentFor.components.seconds), alive: record.silentFor < leaseDuration,
            leases: LeaseKind.allCases.compactMap { kind in record.leasesHeld[kind].map { LeaseCount(kind: kind.rawValue, count: $0) } },
            answering: answering
        )
    }
}
