import struct Foundation.Date

/// What is known about a tenant's synced directory, counted by the store (never loaded to be counted).
public struct DirectorySummary: Sendable, Equatable {
    /// The stored position of one Graph delta query.
    public struct DeltaLink: Sendable, Equatable {
        /// `users` or `groups`.
        public var resource: String
        /// When the link was last committed; its age is what an operator compares with Microsoft's expiry.
        public var updatedAt: Date

        public init(resource: String, updatedAt: Date) {
            self.resource = resource
            self.updatedAt = updatedAt
        }
    }

    public var users: Int
    /// Users whose account is disabled in Entra ID (counted in ``users``).
    public var disabledUsers: Int
    public var groups: Int
    /// Direct memberships of users, groups and other objects in groups.
    public var memberships: Int
    /// The newest full run, whatever its outcome.
    public var lastFull: SyncRun?
    /// The newest delta run, whatever its outcome.
    public var lastDelta: SyncRun?
    public var deltaLinks: [DeltaLink]

    public init(users: Int, disabledUsers: Int, groups: Int, memberships: Int, lastFull: SyncRun?, lastDelta: SyncRun?, deltaLinks: [DeltaLink]) {
        self.users = users
        self.disabledUsers = disabledUsers
        self.groups = groups
        self.memberships = memberships
        self.lastFull = lastFull
        self.lastDelta = lastDelta
        self.deltaLinks = deltaLinks
    }
}
