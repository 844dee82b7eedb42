import struct Foundation.Date
import TenantSyncCore

/// What a tenant's synced directory holds and how fresh it is: the reply of `GetDirectory`.
public struct DirectoryInfo: Codable, Sendable, Equatable {
    /// One stored Graph delta link.
    public struct DeltaLinkInfo: Codable, Sendable, Equatable {
        /// `users` or `groups`.
        public var resource: String
        public var updatedAt: Date
        /// Seconds between `updated_at` and the daemon's answer.
        public var ageSeconds: Int

        public init(resource: String, updatedAt: Date, ageSeconds: Int) {
            self.resource = resource
            self.updatedAt = updatedAt
            self.ageSeconds = ageSeconds
        }
    }

    /// A service account of the tenant that protects the synced directory.
    public struct ServiceState: Codable, Sendable, Equatable {
        public var accountID: Int64
        public var service: ServiceKind
        public var state: AccountState

        public init(accountID: Int64, service: ServiceKind, state: AccountState) {
            self.accountID = accountID
            self.service = service
            self.state = state
        }
    }

    public var tenantID: String
    public var tenantDomain: String
    public var scope: SyncScope
    public var users: Int
    public var disabledUsers: Int
    public var groups: Int
    public var memberships: Int
    /// Users of a selected scope (0 on scope `all`).
    public var selectedTargets: Int
    public var lastFull: SyncRunInfo?
    public var lastDelta: SyncRunInfo?
    public var deltaLinks: [DeltaLinkInfo]
    /// The accounts that share the directory scope (Exchange Online, SharePoint Online, OneDrive).
    public var services: [ServiceState]

    public init(
        tenantID: String, tenantDomain: String, scope: SyncScope, users: Int, disabledUsers: Int, groups: Int, memberships: Int,
        selectedTargets: Int, lastFull: SyncRunInfo?, lastDelta: SyncRunInfo?, deltaLinks: [DeltaLinkInfo], services: [ServiceState]
    ) {
        self.tenantID = tenantID
        self.tenantDomain = tenantDomain
        self.scope = scope
        self.users = users
        self.disabledUsers = disabledUsers
        self.groups = groups
        self.memberships = memberships
        self.selectedTargets = selectedTargets
        self.lastFull = lastFull
        self.lastDelta = lastDelta
        self.deltaLinks = deltaLinks
        self.services = services
    }
}
