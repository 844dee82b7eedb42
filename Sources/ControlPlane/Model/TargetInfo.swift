import struct Foundation.Date
import TenantSyncCore

/// One protected user of a selected scope.
public struct TargetInfo: Codable, Sendable, Equatable {
    public var userPrincipalName: String
    public var userID: String?
    public var source: SelectedTarget.Source
    public var addedAt: Date
    /// False when the user no longer exists in the directory.
    public var exists: Bool

    public init(_ target: SelectedTarget, exists: Bool) {
        self.userPrincipalName = target.userPrincipalName
        self.userID = target.userID
        self.source = target.source
        self.addedAt = target.addedAt
        self.exists = exists
    }
}

/// The reply of `ListTargets`.
public struct TargetList: Codable, Sendable, Equatable {
    public var tenantID: String
    public var scope: SyncScope
    public var limit: Int
    public var targets: [TargetInfo]

    public init(tenantID: String, scope: SyncScope, limit: Int = SyncScope.maximumSelectedTargets, targets: [TargetInfo]) {
        self.tenantID = tenantID
        self.scope = scope
        self.limit = limit
        self.targets = targets
    }
}

/// The parameters of `AddTargets`.
public struct AddTargetsRequest: Codable, Sendable, Equatable {
    public var tenant: String
    /// Exact user principal names.
    public var users: [String]
    /// Group ids (from `SearchGroups`) whose members are added.
    public var groups: [String]

    public init(tenant: String, users: [String], groups: [String]) {
        self.tenant = tenant
        self.users = users
        self.groups = groups
    }
}

/// The reply of `AddTargets`.
public struct TargetsAdded: Codable, Sendable, Equatable {
    public var added: [TargetInfo]
    /// Targets of the tenant after the change.
    public var total: Int

    public init(added: [TargetInfo], total: Int) {
        self.added = added
        self.total = total
    }
}

/// The parameters of `RemoveTargets`.
public struct RemoveTargetsRequest: Codable, Sendable, Equatable {
    public var tenant: String
    public var users: [String]
    /// Also remove every target that no longer exists in the directory.
    public var missing: Bool?

    public init(tenant: String, users: [String], missing: Bool? = nil) {
        self.tenant = tenant
        self.users = users
        self.missing = missing
    }
}

/// The reply of `RemoveTargets`.
public struct TargetsRemoved: Codable, Sendable, Equatable {
    /// User principal names removed.
    public var removed: [String]
    public var total: Int

    public init(removed: [String], total: Int) {
        self.removed = removed
        self.total = total
    }
}

/// A directory group found by name prefix.
public struct GroupMatch: Codable, Sendable, Equatable {
    public var id: String
    public var displayName: String?
    public var mail: String?
    /// Users the group expands to.
    public var members: Int

    public init(id: String, displayName: String?, mail: String?, members: Int) {
        self.id = id
        self.displayName = displayName
        self.mail = mail
        self.members = members
    }
}
