import struct Foundation.Date

/// One user of a tenant's synced directory with what tells whether and since when it is protected.
public struct DirectoryUserRecord: Sendable, Equatable {
    /// A group the user belongs to, directly or through nested groups.
    public struct Membership: Sendable, Equatable {
        public var group: DirectoryGroup
        /// False when the user is a member only through a nested group.
        public var direct: Bool

        public init(group: DirectoryGroup, direct: Bool) {
            self.group = group
            self.direct = direct
        }
    }

    public var user: DirectoryUser
    /// When a sync first stored the user; `nil` for rows stored before tenantsync recorded it.
    public var firstSyncedAt: Date?
    /// When a sync last stored a change of the user.
    public var changedAt: Date?
    /// One page of the user's groups, by group id.
    public var groups: [Membership]
    /// All of the user's groups, however many pages.
    public var groupsTotal: Int
    /// A run held by the mass-deletion guard that would remove the user when confirmed.
    public var pendingRemovalRunID: Int64?

    public init(
        user: DirectoryUser, firstSyncedAt: Date?, changedAt: Date?, groups: [Membership], groupsTotal: Int, pendingRemovalRunID: Int64?
    ) {
        self.user = user
        self.firstSyncedAt = firstSyncedAt
        self.changedAt = changedAt
        self.groups = groups
        self.groupsTotal = groupsTotal
        self.pendingRemovalRunID = pendingRemovalRunID
    }
}
