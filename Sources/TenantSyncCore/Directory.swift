import struct Foundation.Date

/// A user of a tenant's directory, as far as protection needs it.
public struct DirectoryUser: Sendable, Equatable, Codable {
    public var id: String
    public var userPrincipalName: String
    public var displayName: String?
    public var mail: String?
    public var accountEnabled: Bool

    public init(id: String, userPrincipalName: String, displayName: String?, mail: String?, accountEnabled: Bool) {
        self.id = id
        self.userPrincipalName = userPrincipalName
        self.displayName = displayName
        self.mail = mail
        self.accountEnabled = accountEnabled
    }
}

/// A group of a tenant's directory.
public struct DirectoryGroup: Sendable, Equatable, Codable {
    public var id: String
    public var displayName: String?
    public var mail: String?

    public init(id: String, displayName: String?, mail: String?) {
        self.id = id
        self.displayName = displayName
        self.mail = mail
    }
}

/// One direct membership of a user or group in a group.
public struct GroupMembership: Sendable, Hashable, Codable {
    public enum MemberType: String, Codable, Sendable { case user, group, other }

    public var groupID: String
    public var memberID: String
    public var memberType: MemberType

    public init(groupID: String, memberID: String, memberType: MemberType) {
        self.groupID = groupID
        self.memberID = memberID
        self.memberType = memberType
    }
}

/// A batch of directory changes written in one transaction.
///
/// A sync applies its pages as batches; `deltaLinks`, when set, are committed
/// in the same transaction as the data they cover.
public struct DirectoryBatch: Sendable, Equatable {
    public var upsertedUsers: [DirectoryUser] = []
    public var removedUserIDs: [String] = []
    public var upsertedGroups: [DirectoryGroup] = []
    public var removedGroupIDs: [String] = []
    public var addedMemberships: [GroupMembership] = []
    public var removedMemberships: [GroupMembership] = []
    /// Replaces all memberships of these groups (a full read of their members).
    public var replacedMembershipsOfGroups: [String: [GroupMembership]] = [:]
    /// Delta links to commit with this batch, by resource (`users`, `groups`).
    public var deltaLinks: [String: String] = [:]

    public init() {}

    public var isEmpty: Bool {
        upsertedUsers.isEmpty && removedUserIDs.isEmpty && upsertedGroups.isEmpty && removedGroupIDs.isEmpty
            && addedMemberships.isEmpty && removedMemberships.isEmpty && replacedMembershipsOfGroups.isEmpty
            && deltaLinks.isEmpty
    }
}

/// What applying a ``DirectoryBatch`` changed.
public struct DirectoryChangeCounts: Sendable, Equatable, Codable {
    public var usersAdded = 0
    public var usersChanged = 0
    public var usersRemoved = 0
    public var groupsAdded = 0
    public var groupsChanged = 0
    public var groupsRemoved = 0
    public var membershipsAdded = 0
    public var membershipsRemoved = 0

    public init() {}

    public static func += (lhs: inout DirectoryChangeCounts, rhs: DirectoryChangeCounts) {
        lhs.usersAdded += rhs.usersAdded
        lhs.usersChanged += rhs.usersChanged
        lhs.usersRemoved += rhs.usersRemoved
        lhs.groupsAdded += rhs.groupsAdded
        lhs.groupsChanged += rhs.groupsChanged
        lhs.groupsRemoved += rhs.groupsRemoved
        lhs.membershipsAdded += rhs.membershipsAdded
        lhs.membershipsRemoved += rhs.membershipsRemoved
    }
}

/// A user protected by a `selected` scope.
public struct SelectedTarget: Sendable, Equatable, Codable {
    public enum Source: String, Codable, Sendable { case upn, group }

    public var tenantID: String
    public var userPrincipalName: String
    public var userID: String?
    public var source: Source
    public var addedAt: Date

    public init(tenantID: String, userPrincipalName: String, userID: String?, source: Source, addedAt: Date) {
        self.tenantID = tenantID
        self.userPrincipalName = userPrincipalName
        self.userID = userID
        self.source = source
        self.addedAt = addedAt
    }
}
