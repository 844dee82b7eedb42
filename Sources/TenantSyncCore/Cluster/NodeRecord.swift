import struct Foundation.Date

/// A daemon of the cluster as the store knows it: its announcement, its last heartbeat and the leases it holds.
public struct NodeRecord: Sendable, Equatable {
    public var name: String
    public var version: String
    public var startedAt: Date
    public var lastHeartbeatAt: Date
    /// How long ago the last heartbeat was, by the store's clock (so nodes' clocks need not agree).
    public var silentFor: Duration
    /// Unexpired leases held now, by kind (kinds without a lease are absent).
    public var leasesHeld: [LeaseKind: Int]

    public init(name: String, version: String, startedAt: Date, lastHeartbeatAt: Date, silentFor: Duration, leasesHeld: [LeaseKind: Int]) {
        self.name = name
        self.version = version
        self.startedAt = startedAt
        self.lastHeartbeatAt = lastHeartbeatAt
        self.silentFor = silentFor
        self.leasesHeld = leasesHeld
    }

    /// All unexpired leases the node holds.
    public var leaseCount: Int { leasesHeld.values.reduce(0, +) }
}
