import struct Foundation.Date
import TenantSyncCore

/// Everything about one account: the reply of `GetAccount`.
public struct AccountDetail: Codable, Sendable, Equatable {
    public var id: Int64
    public var tenantID: String
    public var tenantDomain: String
    public var service: ServiceKind
    public var state: AccountState
    public var scope: SyncScope?
    public var provisioningStep: String?
    public var provisioningError: String?
    public var appID: String?
    public var clientSecretExpiresAt: Date?
    public var licensingModel: LicensingModel?
    /// Inline Mode: the policy enabled on completion.
    public var inlinePolicy: String?
    /// Inline Mode: the mail-flow direction routed through the product.
    public var inlineDirection: InlineDirection?
    public var grants: [GrantInfo]
    public var lastSync: SyncRunInfo?
    /// The tenant's run held by the mass-deletion guard, if any.
    public var heldSync: SyncRunInfo?
    public var nextSyncAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    /// Per-service provisioning facts, e.g. the SharePoint app principal step.
    public var details: [String: VarlinkValue]

    public init(
        account: ServiceAccount, tenantDomain: String, scope: SyncScope?, grants: [GrantInfo],
        lastSync: SyncRunInfo?, heldSync: SyncRunInfo? = nil, nextSyncAt: Date?, details: [String: VarlinkValue] = [:]
    ) {
        self.id = account.id
        self.tenantID = account.tenantID
        self.tenantDomain = tenantDomain
        self.service = account.service
        self.state = account.state
        self.scope = scope
        self.provisioningStep = account.provisioningStep
        self.provisioningError = account.provisioningError
        self.appID = account.appID
        self.clientSecretExpiresAt = account.clientSecretExpiresAt
        self.licensingModel = account.licensingModel
        self.inlinePolicy = account.inlinePolicy
        self.inlineDirection = account.inlineDirection
        self.grants = grants
        self.lastSync = lastSync
        self.heldSync = heldSync
        self.nextSyncAt = nextSyncAt
        self.createdAt = account.createdAt
        self.updatedAt = account.updatedAt
        self.details = details
    }
}

/// One OAuth grant of an account, with its token state and open incident.
public struct GrantInfo: Codable, Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var resource: String
    public var flow: GrantFlow
    public var state: GrantState
    public var token: TokenState?
    public var incident: IncidentInfo?

    public init(grant: Grant, token: TokenStatus?, incident: Incident?) {
        self.id = grant.id
        self.name = grant.name
        self.resource = grant.resource
        self.flow = grant.flow
        self.state = grant.state
        self.token = token.map(TokenState.init)
        self.incident = incident.map(IncidentInfo.init)
    }
}

/// What an operator may know about a grant's tokens (never the tokens).
public struct TokenState: Codable, Sendable, Equatable {
    public var scopes: [String]
    public var obtainedAt: Date
    public var expiresAt: Date
    public var lastRefreshAt: Date?
    public var lastRefreshOutcome: String?
    public var nextRefreshAt: Date
    public var consecutiveFailures: Int

    public init(_ status: TokenStatus) {
        self.scopes = status.scopes
        self.obtainedAt = status.obtainedAt
        self.expiresAt = status.expiresAt
        self.lastRefreshAt = status.lastRefreshAt
        self.lastRefreshOutcome = status.lastRefreshOutcome
        self.nextRefreshAt = status.nextRefreshAt
        self.consecutiveFailures = status.consecutiveFailures
    }
}

/// An open incident of a grant.
public struct IncidentInfo: Codable, Sendable, Equatable {
    public var id: Int64
    public var kind: Incident.Kind
    public var error: String?
    public var aadstsCode: Int?
    public var traceID: String?
    public var correlationID: String?
    public var firstSeenAt: Date
    public var lastSeenAt: Date
    public var occurrences: Int

    public init(_ incident: Incident) {
        self.id = incident.id
        self.kind = incident.kind
        self.error = incident.error
        self.aadstsCode = incident.aadstsCode
        self.traceID = incident.traceID
        self.correlationID = incident.correlationID
        self.firstSeenAt = incident.firstSeenAt
        self.lastSeenAt = incident.lastSeenAt
        self.occurrences = incident.occurrences
    }
}
