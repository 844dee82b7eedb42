import struct Foundation.Date

/// One Microsoft 365 organization (Entra ID directory).
public struct Tenant: Sendable, Equatable, Codable {
    /// The tenant id, a lower-case GUID.
    public var id: String
    /// The primary domain, e.g. `contoso.com`.
    public var domain: String
    public var displayName: String?
    /// The scope shared by Exchange Online, SharePoint Online and OneDrive.
    public var syncScope: SyncScope
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, domain: String, displayName: String?, syncScope: SyncScope, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.domain = domain
        self.displayName = displayName
        self.syncScope = syncScope
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
