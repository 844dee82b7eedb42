import struct Foundation.Date

/// One account with what an operator's list shows about it, read in one set-based query.
public struct AccountOverview: Sendable, Equatable {
    public var account: ServiceAccount
    public var tenant: Tenant
    /// The tenant's newest sync run, whatever its outcome.
    public var lastRun: SyncRun?
    /// Whether the tenant's daily sync applies: scope `all` and an account that syncs the directory.
    public var tenantIsScheduled: Bool
    /// The earliest next refresh of the account's valid grants.
    public var nextRefreshAt: Date?
    /// The kinds of the account's open incidents (one entry per incident).
    public var openIncidentKinds: [Incident.Kind]

    public init(
        account: ServiceAccount, tenant: Tenant, lastRun: SyncRun?, tenantIsScheduled: Bool, nextRefreshAt: Date?,
        openIncidentKinds: [Incident.Kind]
    ) {
        self.account = account
        self.tenant = tenant
        self.lastRun = lastRun
        self.tenantIsScheduled = tenantIsScheduled
        self.nextRefreshAt = nextRefreshAt
        self.openIncidentKinds = openIncidentKinds
    }

    /// The account is broken or has an open incident.
    public var needsAttention: Bool { account.state == .tokenInvalid || !openIncidentKinds.isEmpty }
}
