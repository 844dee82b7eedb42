import struct Foundation.Date

/// One item of work held by one node until `expiresAt` (the store's clock), under an epoch.
///
/// The epoch grows with every claim of the same (kind, key), never with a renewal: a write fenced by a lease commits
/// only while the store still shows this holder with this epoch, so a node whose lease expired and was claimed again
/// cannot commit over the new holder.
public struct Lease: Sendable, Hashable {
    public var kind: LeaseKind
    public var key: String
    public var holder: String
    public var epoch: Int64
    /// When the lease ends unless renewed, by the store's clock (PostgreSQL's, not the node's).
    public var expiresAt: Date

    public init(kind: LeaseKind, key: String, holder: String, epoch: Int64, expiresAt: Date) {
        self.kind = kind
        self.key = key
        self.holder = holder
        self.epoch = epoch
        self.expiresAt = expiresAt
    }

    /// The item the lease is on, whoever holds it.
    public var item: LeaseItem { LeaseItem(kind: kind, key: key) }

    /// The error of a write fenced by this lease when the store no longer shows it held (both stores throw it).
    public var lostError: TenantSyncError {
        TenantSyncError(
            .leaseLost, "The \(kind.rawValue) lease on \(key) is no longer held by node \(holder); nothing was written.",
            context: ["lease.kind": kind.rawValue, "lease.key": key, "lease.epoch": "\(epoch)", "node.name": holder]
        )
    }
}

/// One item of leased work: a kind and a key.
public struct LeaseItem: Sendable, Hashable {
    public var kind: LeaseKind
    public var key: String

    public init(kind: LeaseKind, key: String) {
        self.kind = kind
        self.key = key
    }
}
