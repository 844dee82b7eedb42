/// What a renewal did: the leases extended (with their new expiry) and those the node no longer holds.
public struct LeaseRenewal: Sendable, Equatable {
    public var renewed: [Lease]
    /// Expired, released or claimed by another node since: work under them must stop, their writes are refused.
    public var lost: [Lease]

    public init(renewed: [Lease], lost: [Lease]) {
        self.renewed = renewed
        self.lost = lost
    }
}
