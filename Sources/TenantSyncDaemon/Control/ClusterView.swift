import TenantSyncCore

/// What the control socket shows of the cluster: the shared store's nodes and the lease duration that tells a live
/// node from a silent one.
///
/// Only a store several daemons share has one; on the embedded SQLite store this daemon is the only node.
struct ClusterView: Sendable {
    /// `[cluster] lease_duration`: a node silent for longer may be dead, and its leases expire to the others.
    var leaseDuration: Duration
    /// The nodes as the store records them, with their unexpired leases (``LeaseStore/nodes()``).
    var nodes: @Sendable () async throws -> [NodeRecord]
}
