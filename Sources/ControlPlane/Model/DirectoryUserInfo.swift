import struct Foundation.Date
import TenantSyncCore

/// Whether one user of a tenant is protected, through which scope, since when: the reply of `GetDirectoryUser`.
public struct DirectoryUserInfo: Codable, Sendable, Equatable {
    /// Why a user is not protected.
    public enum Reason: String, Codable, Sendable, CaseIterable {
        /// Scope `all`, but no sync of the tenant has succeeded yet.
        case neverSynced = "never-synced"
        /// Scope `all`, and the synced directory has no such user (never there, deleted, or removed by a sync).
        case notInDirectory = "not-in-directory"
        /// Scope `selected`, and the user is not one of the selected targets.
        case notSelected = "not-selected"
        /// The user is in scope, but no account that shares the directory scope is active.
        case noActiveService = "no-active-service"
    }

    /// A group the user belongs to.
    public struct GroupInfo: Codable, Sendable, Equatable {
        public var id: String
        public var displayName: String?
        public var mail: String?
        /// False when the user belongs only through a nested group.
        public var direct: Bool

        public init(id: String, displayName: String?, mail: String?, direct: Bool) {
            self.id = id
            self.displayName = displayName
            self.mail = mail
            self.direct = direct
        }
    }

    public var tenantID: String
    public var tenantDomain: String
    /// The name asked about, or the directory's spelling of it when found.
    public var userPrincipalName: String
    public var isProtected: Bool
    /// Set exactly when `protected` is false.
    public var reason: Reason?
    /// The answer in words.
    public var message: String
    public var scope: SyncScope
    /// `all`, or the selected target's source (`upn`, `group`); absent when not in scope.
    public var via: String?
    /// Scope `all`: when a sync first stored the user; scope `selected`: when the target was added.
    public var since: Date?
    public var userID: String?
    public var displayName: String?
    public var mail: String?
    public var accountEnabled: Bool?
    /// When a sync last stored a change of the user.
    public var changedAt: Date?
    /// The active accounts that protect the user.
    public var services: [ServiceKind]
    /// One page of the user's groups, ordered by id.
    public var groups: [GroupInfo]
    public var groupsTotal: Int
    /// Pass as `groups_after` for the next page; absent on the last page.
    public var groupsNext: String?
    /// A run held by the mass-deletion guard that would remove the user when confirmed.
    public var pendingRemovalRun: Int64?

    enum CodingKeys: String, CodingKey {
        case tenantID, tenantDomain, userPrincipalName, reason, message, scope, via, since, userID, displayName, mail
        case accountEnabled, changedAt, services, groups, groupsTotal, groupsNext, pendingRemovalRun
        // `protected` is a keyword in many client languages' records, but it is the word operators use.
        case isProtected = "protected"
    }

    public init(
        tenantID: String, tenantDomain: String, userPrincipalName: String, isProtected: Bool, reason: Reason?, message: String,
        scope: SyncScope, via: String? = nil, since: Date? = nil, userID: String? = nil, displayName: String? = nil, mail: String? = nil,
        accountEnabled: Bool? = nil, changedAt: Date? = nil, services: [ServiceKind] = [], groups: [GroupInfo] = [], groupsTotal: Int = 0,
        groupsNext: String? = nil, pendingRemovalRun: Int64? = nil
    ) {
        self.tenantID = tenantID
        self.tenantDomain = tenantDomain
        self.userPrincipalName = userPrincipalName
        self.isProtected = isProtected
        self.reason = reason
        self.message = message
        self.scope = scope
        self.via = via
        self.since = since
        self.userID = userID
        self.displayName = displayName
        self.mail = mail
        self.accountEnabled = accountEnabled
        self.changedAt = changedAt
        self.services = services
        self.groups = groups
        self.groupsTotal = groupsTotal
        self.groupsNext = groupsNext
        self.pendingRemovalRun = pendingRemovalRun
    }
}

/// The parameters of `GetDirectoryUser`.
public struct DirectoryUserRequest: Codable, Sendable, Equatable {
    /// Tenant id or primary domain.
    public var tenant: String
    /// The user principal name (case-insensitive).
    public var user: String
    /// Groups per reply (default 100, at most 1,000).
    public var groupsLimit: Int?
    /// The `groups_next` of the previous reply.
    public var groupsAfter: String?

    public init(tenant: String, user: String, groupsLimit: Int? = nil, groupsAfter: String? = nil) {
        self.tenant = tenant
        self.user = user
        self.groupsLimit = groupsLimit
        self.groupsAfter = groupsAfter
    }
}
