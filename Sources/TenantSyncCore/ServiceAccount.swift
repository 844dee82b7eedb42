import struct Foundation.Date

/// The authorization the daemon holds for one (tenant, service).
public struct ServiceAccount: Sendable, Equatable, Codable {
    public var id: Int64
    public var tenantID: String
    public var service: ServiceKind
    public var state: AccountState
    /// The open (or failed) provisioning step, while `state` is `provisioning`.
    public var provisioningStep: String?
    /// Why that step failed, if it did.
    public var provisioningError: String?
    /// The application the account's grants belong to (Teams Chat: the customer's own app).
    public var appID: String?
    public var clientSecretExpiresAt: Date?
    public var licensingModel: LicensingModel?
    /// Inline Mode: the policy enabled on completion.
    public var inlinePolicy: String?
    /// Inline Mode: the mail-flow direction routed through the product.
    public var inlineDirection: InlineDirection?
    /// Per-service provisioning facts (JSON object), e.g. the SharePoint app principal step.
    public var detailsJSON: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int64, tenantID: String, service: ServiceKind, state: AccountState,
        provisioningStep: String? = nil, provisioningError: String? = nil, appID: String? = nil,
        clientSecretExpiresAt: Date? = nil, licensingModel: LicensingModel? = nil,
        detailsJSON: String = "{}", inlinePolicy: String? = nil, inlineDirection: InlineDirection? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.inlinePolicy = inlinePolicy
        self.inlineDirection = inlineDirection
        self.id = id
        self.tenantID = tenantID
        self.service = service
        self.state = state
        self.provisioningStep = provisioningStep
        self.provisioningError = provisioningError
        self.appID = appID
        self.clientSecretExpiresAt = clientSecretExpiresAt
        self.licensingModel = licensingModel
        self.detailsJSON = detailsJSON
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One OAuth authorization inside an account, for one resource.
public struct Grant: Sendable, Equatable, Codable {
    public var id: Int64
    public var accountID: Int64
    /// Short name inside the account: `ews`, `graph`, `app`, ...
    public var name: String
    /// The `.default` scope the grant asks for.
    public var resource: String
    public var flow: GrantFlow
    public var state: GrantState
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: Int64, accountID: Int64, name: String, resource: String, flow: GrantFlow, state: GrantState, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.accountID = accountID
        self.name = name
        self.resource = resource
        self.flow = flow
        self.state = state
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}
