import struct Foundation.Date
import TenantSyncCore

/// One directory synchronization run as the interface shows it.
public struct SyncRunInfo: Codable, Sendable, Equatable {
    public var id: Int64
    public var tenantID: String
    public var service: ServiceKind?
    public var trigger: SyncTrigger
    public var mode: SyncMode
    public var state: SyncRunState
    public var startedAt: Date
    public var finishedAt: Date?
    public var pages: Int
    public var usersAdded: Int
    public var usersChanged: Int
    public var usersRemoved: Int
    public var groupsAdded: Int
    public var groupsChanged: Int
    public var groupsRemoved: Int
    public var error: String?
    /// Why the run is held, superseded or was a fallback.
    public var note: String?

    public init(_ run: SyncRun) {
        self.id = run.id
        self.tenantID = run.tenantID
        self.service = run.service
        self.trigger = run.trigger
        self.mode = run.mode
        self.state = run.state
        self.startedAt = run.startedAt
        self.finishedAt = run.finishedAt
        self.pages = run.pages
        self.usersAdded = run.counts.usersAdded
        self.usersChanged = run.counts.usersChanged
        self.usersRemoved = run.counts.usersRemoved
        self.groupsAdded = run.counts.groupsAdded
        self.groupsChanged = run.counts.groupsChanged
        self.groupsRemoved = run.counts.groupsRemoved
        self.error = run.error
        self.note = run.note
    }
}

/// A manual sync request: the parameters of `Sync`.
public struct SyncRequest: Codable, Sendable, Equatable {
    /// Tenant id or primary domain.
    public var tenant: String
    /// One service, or `nil` for the whole tenant.
    public var service: ServiceKind?
    /// Read everything again instead of a delta (`nil`: false).
    public var full: Bool?

    public init(tenant: String, service: ServiceKind? = nil, full: Bool? = nil) {
        self.tenant = tenant
        self.service = service
        self.full = full
    }
}

/// Progress of a sync run: each reply of a streaming `Sync`.
public struct SyncProgress: Codable, Sendable, Equatable {
    public var run: SyncRunInfo
    /// True on the last reply of the run.
    public var done: Bool
    public var message: String?

    public init(run: SyncRunInfo, done: Bool, message: String? = nil) {
        self.run = run
        self.done = done
        self.message = message
    }
}

/// Progress of an extend-to-all run: each reply of `Extend`.
public struct ExtendProgress: Codable, Sendable, Equatable {
    /// The services switched from `selected` to `all`.
    public var switched: [ServiceKind]
    public var progress: SyncProgress

    public init(switched: [ServiceKind], progress: SyncProgress) {
        self.switched = switched
        self.progress = progress
    }
}
