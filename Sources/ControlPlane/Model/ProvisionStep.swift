import struct Foundation.Date
import TenantSyncCore

/// Where a provisioning (or renewal) stands and what the administrator must do next.
public struct ProvisionStep: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// An interactive consent in a browser; see ``ProvisionStep/consent``.
        case consent
        /// The customer's own app id and secret are needed (Teams Chat).
        case appCredentials = "app_credentials"
        /// The admin must grant the SharePoint app principal and confirm it (OneDrive).
        case confirmAppPrincipal = "confirm_app_principal"
        /// The sync scope must be chosen.
        case chooseScope = "choose_scope"
        case complete
        case failed
    }

    public var accountID: Int64
    public var tenantID: String
    public var service: ServiceKind
    public var step: Kind
    /// True when the daemon waits for `ContinueProvisioning` with input for this step.
    public var needsInput: Bool
    /// What to show the administrator.
    public var message: String
    public var consent: Consent?
    public var appPrincipal: AppPrincipal?
    public var scope: SyncScope?
    public var error: String?

    public init(
        accountID: Int64, tenantID: String, service: ServiceKind, step: Kind, needsInput: Bool, message: String,
        consent: Consent? = nil, appPrincipal: AppPrincipal? = nil, scope: SyncScope? = nil, error: String? = nil
    ) {
        self.accountID = accountID
        self.tenantID = tenantID
        self.service = service
        self.step = step
        self.needsInput = needsInput
        self.message = message
        self.consent = consent
        self.appPrincipal = appPrincipal
        self.scope = scope
        self.error = error
    }

    /// Whether provisioning has ended, well or badly.
    public var isFinal: Bool { step == .complete || step == .failed }
}

/// How an administrator gives an interactive consent.
public enum ConsentFlow: String, Codable, Sendable, CaseIterable {
    /// The administrator enters a code at a verification URL on any device.
    case deviceCode = "device_code"
    /// Authorization code with PKCE; the redirect lands on the daemon's loopback listener.
    case authCode = "auth_code"
}

/// An interactive consent the administrator must give in a browser.
public struct Consent: Codable, Sendable, Equatable {
    public var grant: String
    public var resource: String
    public var flow: ConsentFlow
    public var verificationURI: String?
    public var userCode: String?
    public var authorizationURL: String?
    public var expiresAt: Date?
    public var message: String?

    public init(
        grant: String, resource: String, flow: ConsentFlow, verificationURI: String? = nil, userCode: String? = nil,
        authorizationURL: String? = nil, expiresAt: Date? = nil, message: String? = nil
    ) {
        self.grant = grant
        self.resource = resource
        self.flow = flow
        self.verificationURI = verificationURI
        self.userCode = userCode
        self.authorizationURL = authorizationURL
        self.expiresAt = expiresAt
        self.message = message
    }
}

/// The SharePoint app principal step (OneDrive): the admin grants this app the permission.
public struct AppPrincipal: Codable, Sendable, Equatable {
    public var appID: String
    /// The `AppPermissionRequests` XML to paste into the SharePoint admin page.
    public var permissionXML: String
    public var verified: Bool

    public init(appID: String, permissionXML: String, verified: Bool) {
        self.appID = appID
        self.permissionXML = permissionXML
        self.verified = verified
    }
}

/// The customer's own Entra application (Teams Chat), with either a client secret or a certificate credential.
public struct AppCredentials: Codable, Sendable, Equatable {
    public var appID: String
    /// Travels only over the control socket; never printed. `nil` when the app authenticates with a certificate.
    public var clientSecret: Secret?
    /// When the secret expires (`--secret-expires`), for the expiry alerts; `nil` when not given.
    public var secretExpiresAt: Date?
    /// A certificate credential: the PEM certificate uploaded to the app registration (public).
    public var certificate: String?
    /// The certificate's PEM private key; travels only over the control socket, never printed.
    public var privateKey: Secret?

    public init(appID: String, clientSecret: Secret, secretExpiresAt: Date? = nil) {
        self.appID = appID
        self.clientSecret = clientSecret
        self.secretExpiresAt = secretExpiresAt
    }

    /// A certificate credential; the daemon checks that the key belongs to the certificate and reads the expiry from it.
    public init(appID: String, certificate: String, privateKey: Secret) {
        self.appID = appID
        self.certificate = certificate
        self.privateKey = privateKey
    }

    enum CodingKeys: String, CodingKey {
        case appID
        case clientSecret
        case secretExpiresAt
        case certificate
        case privateKey
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.appID = try container.decode(String.self, forKey: .appID)
        self.clientSecret = try container.decodeIfPresent(String.self, forKey: .clientSecret).map(Secret.init)
        self.secretExpiresAt = try container.decodeIfPresent(Date.self, forKey: .secretExpiresAt)
        self.certificate = try container.decodeIfPresent(String.self, forKey: .certificate)
        self.privateKey = try container.decodeIfPresent(String.self, forKey: .privateKey).map(Secret.init)
        // Exactly one credential: a secret, or a certificate with its key.
        guard (clientSecret != nil) != (certificate != nil || privateKey != nil), (certificate == nil) == (privateKey == nil) else {
            throw DecodingError.dataCorruptedError(
                forKey: .clientSecret, in: container,
                debugDescription: "app needs either client_secret or certificate and private_key"
            )
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(appID, forKey: .appID)
        try container.encodeIfPresent(clientSecret?.reveal, forKey: .clientSecret)
        try container.encodeIfPresent(secretExpiresAt, forKey: .secretExpiresAt)
        try container.encodeIfPresent(certificate, forKey: .certificate)
        try container.encodeIfPresent(privateKey?.reveal, forKey: .privateKey)
    }
}

/// The sync scope an administrator picks.
public struct ScopeChoice: Codable, Sendable, Equatable {
    public var scope: SyncScope
    /// Selected scope: users by exact user principal name.
    public var users: [String]?
    /// Selected scope: the members of groups whose name starts with these.
    public var groupPrefixes: [String]?

    public init(scope: SyncScope, users: [String]? = nil, groupPrefixes: [String]? = nil) {
        self.scope = scope
        self.users = users
        self.groupPrefixes = groupPrefixes
    }
}

/// The parameters of `Provision`.
public struct ProvisionRequest: Codable, Sendable, Equatable {
    public var service: ServiceKind
    /// Tenant id or primary domain.
    public var tenant: String
    public var consentFlow: ConsentFlow?
    public var app: AppCredentials?
    public var licensingModel: LicensingModel?
    public var scope: ScopeChoice?
    /// Inline Mode: the policy to enable on completion.
    public var policy: String?
    /// Inline Mode: inbound only, or inbound and outbound.
    public var direction: InlineDirection?

    public init(
        service: ServiceKind, tenant: String, consentFlow: ConsentFlow? = nil, app: AppCredentials? = nil,
        licensingModel: LicensingModel? = nil, scope: ScopeChoice? = nil, policy: String? = nil, direction: InlineDirection? = nil
    ) {
        self.policy = policy
        self.direction = direction
        self.service = service
        self.tenant = tenant
        self.consentFlow = consentFlow
        self.app = app
        self.licensingModel = licensingModel
        self.scope = scope
    }
}

/// The parameters of `ContinueProvisioning`: the input the current step asked for.
public struct ContinueProvisioningRequest: Codable, Sendable, Equatable {
    public var accountID: Int64
    public var app: AppCredentials?
    public var confirmAppPrincipal: Bool?
    public var scope: ScopeChoice?
    /// The flow of any consent still to come.
    public var consentFlow: ConsentFlow?

    public init(
        accountID: Int64, app: AppCredentials? = nil, confirmAppPrincipal: Bool? = nil, scope: ScopeChoice? = nil, consentFlow: ConsentFlow? = nil
    ) {
        self.consentFlow = consentFlow
        self.accountID = accountID
        self.app = app
        self.confirmAppPrincipal = confirmAppPrincipal
        self.scope = scope
    }
}

/// The parameters of `Renew`.
public struct RenewRequest: Codable, Sendable, Equatable {
    public var id: Int64
    public var consentFlow: ConsentFlow?
    public var app: AppCredentials?
    public var licensingModel: LicensingModel?

    public init(id: Int64, consentFlow: ConsentFlow? = nil, app: AppCredentials? = nil, licensingModel: LicensingModel? = nil) {
        self.id = id
        self.consentFlow = consentFlow
        self.app = app
        self.licensingModel = licensingModel
    }
}

/// The parameters of `GrantActivityData`.
public struct GrantActivityDataRequest: Codable, Sendable, Equatable {
    public var id: Int64
    public var consentFlow: ConsentFlow?

    public init(id: Int64, consentFlow: ConsentFlow? = nil) {
        self.id = id
        self.consentFlow = consentFlow
    }
}
