/// How a service takes leased work on this node: the daemon's cluster node implements it.
///
/// A service claims the items it is about to work on, works only while it ``holds(_:)`` their leases, and releases
/// them when done. Leases are renewed for it while it works; a lease the node loses stops counting as held at once.
/// Without a cluster (the embedded SQLite store, one daemon) services are given none and work without leases.
public protocol WorkLeasing: Sendable {
    /// This node's name, the holder of every lease it claims.
    var nodeName: String { get }

    /// Claims those of `keys` of `kind` no node holds, at most `limit`, in the order given.
    func claim(kind: LeaseKind, keys: [String], limit: Int) async throws -> [Lease]

    /// Claims up to `limit` grants whose tokens are due by the store's clock and that no node holds.
    func claimDueGrants(limit: Int) async throws -> [Lease]

    /// Whether work under `lease` may go on now (held here with its epoch, within the time the node trusts it).
    func holds(_ lease: Lease) -> Bool

    /// Ends the leases (the work is done or abandoned) so that any node may claim their items. Never throws: a
    /// release the store did not get ends at the lease's expiry.
    func release(_ leases: [Lease]) async

    /// The store the leases live in, for the writes they fence.
    var leaseStore: any LeaseStore { get }
}
