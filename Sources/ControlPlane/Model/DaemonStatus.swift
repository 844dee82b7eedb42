import struct Foundation.Date
import TenantSyncCore

/// The daemon's health at a glance: the reply of `Status`.
public struct DaemonStatus: Codable, Sendable, Equatable {
    public var version: String
    public var startedAt: Date
    public var accounts: AccountCounts
    /// Accounts that need attention (token-invalid, or an open incident), in id order: the first few of them.
    public var degraded: [AccountRef]
    /// How many accounts need attention in all (`degraded` lists the first few); `nil` from older daemons, which list
    /// them all.
    public var degradedTotal: Int?
    public var nextSync: NextSync?
    public var alertDelivery: [ChannelHealth]
    public var unacknowledgedAlerts: Int
    /// Runs held by the mass-deletion guard (at most one per tenant); `nil` from older daemons.
    public var heldSyncs: [SyncRunInfo]?
    /// How many runs are held in all (`heldSyncs` lists the first few); `nil` from older daemons, which list them all.
    public var heldSyncsTotal: Int?
    /// Set while the database refuses writes (token refreshes are paused); `nil` when it accepts them.
    public var storeWriteFailure: StoreWriteFailure?
    /// The app credential that expires first; `nil` when none with an expiry is known (and from older daemons).
    public var nearestCredentialExpiry: CredentialExpiryInfo?
    /// The daemons sharing the database; `nil` on the embedded SQLite store (this daemon is the only node) and from
    /// older daemons.
    public var cluster: ClusterCounts?

    public init(
        version: String, startedAt: Date, accounts: AccountCounts, degraded: [AccountRef], degradedTotal: Int? = nil,
        nextSync: NextSync?, alertDelivery: [ChannelHealth], unacknowledgedAlerts: Int, heldSyncs: [SyncRunInfo]? = nil,
        heldSyncsTotal: Int? = nil, storeWriteFailure: StoreWriteFailure? = nil, nearestCredentialExpiry: CredentialExpiryInfo? = nil, cluster: ClusterCounts? = nil
    ) {
        self.version = version
        self.startedAt = startedAt
        self.accounts = accounts
        self.degraded = degraded
        self.degradedTotal = degradedTotal
        self.nextSync = nextSync
        self.alertDelivery = alertDelivery
        self.unacknowledgedAlerts = unacknowledgedAlerts
        self.heldSyncs = heldSyncs
        self.heldSyncsTotal = heldSyncsTotal
        self.storeWriteFailure = storeWriteFailure
        self.nearestCredentialExpiry = nearestCredentialExpiry
        self.cluster = cluster
    }
}

/// How many daemons share the database and how many of them are alive (heard from within the lease duration).
public struct ClusterCounts: Codable, Sendable, Equatable {
    public var nodes: Int
    public var alive: Int

    public init(nodes: Int, alive: Int) {
        self.nodes = nodes
        self.alive = alive
    }
}

/// How many accounts are in each state.
public struct AccountCounts: Codable, Sendable, Equatable {
    public var total: Int
    public var active: Int
    public var provisioning: Int
    public var tokenInvalid: Int

    public init(total: Int, active: Int, provisioning: Int, tokenInvalid: Int) {
        self.total = total
        self.active = active
        self.provisioning = provisioning
        self.tokenInvalid = tokenInvalid
    }
}

/// When the next scheduled sync of a tenant starts.
public struct NextSync: Codable, Sendable, Equatable {
    public var tenantID: String
    public var tenantDomain: String
    public var at: Date

    public init(tenantID: String, tenantDomain: String, at: Date) {
        self.tenantID = tenantID
        self.tenantDomain = tenantDomain
        self.at = at
    }
}

/// The delivery health of one alert channel.
public struct ChannelHealth: Codable, Sendable, Equatable {
    /// `journal`, `smtp`, or `hook:NAME`.
    public var channel: String
    public var pending: Int
    public var oldestPendingAt: Date?
    public var lastError: String?
    public var lastDeliveredAt: Date?

    public init(channel: String, pending: Int, oldestPendingAt: Date? = nil, lastError: String? = nil, lastDeliveredAt: Date? = nil) {
        self.channel = channel
        self.pending = pending
        self.oldestPendingAt = oldestPendingAt
        self.lastError = lastError
        self.lastDeliveredAt = lastDeliveredAt
    }
}
