import struct Foundation.Date
import TenantSyncCore

/// A short reference to one account.
public struct AccountRef: Codable, Sendable, Equatable {
    public var id: Int64
    public var tenantID: String
    public var tenantDomain: String
    public var service: ServiceKind
    public var state: AccountState

    public init(id: Int64, tenantID: String, tenantDomain: String, service: ServiceKind, state: AccountState) {
        self.id = id
        self.tenantID = tenantID
        self.tenantDomain = tenantDomain
        self.service = service
        self.state = state
    }
}

/// One row of the accounts table: the reply items of `ListAccounts`.
public struct AccountSummary: Codable, Sendable, Equatable {
    public var id: Int64
    public var tenantID: String
    public var tenantDomain: String
    public var service: ServiceKind
    public var state: AccountState
    /// The tenant's sync scope, for services that sync the directory.
    public var scope: SyncScope?
    public var lastSyncAt: Date?
    public var nextSyncAt: Date?
    public var nextRefreshAt: Date?
    public var openIncidents: Int

    public init(
        id: Int64, tenantID: String, tenantDomain: String, service: ServiceKind, state: AccountState, scope: SyncScope?,
        lastSyncAt: Date?, nextSyncAt: Date?, nextRefreshAt: Date?, openIncidents: Int
    ) {
        self.id = id
        self.tenantID = tenantID
        self.tenantDomain = tenantDomain
        self.service = service
        self.state = state
        self.scope = scope
        self.lastSyncAt = lastSyncAt
        self.nextSyncAt = nextSyncAt
        self.nextRefreshAt = nextRefreshAt
        self.openIncidents = openIncidents
    }
}
