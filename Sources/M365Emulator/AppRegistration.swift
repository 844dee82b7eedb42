/// An application registered (or consented) in one tenant: the product's multi-tenant app, or an
/// app the customer registered in its own tenant (Teams Chat).
public struct AppRegistration: Sendable, Codable, Equatable {
    /// Application (client) id.
    public var appId: String
    public var displayName: String?
    /// Client secret; never returned by the admin API.
    public var secret: String?
    /// More client secrets valid at the same time (Microsoft keeps several `passwordCredentials` per app, which is
    /// how a secret is rotated without downtime); never returned by the admin API.
    public var additionalSecrets: [String]?
    public var secretExpired: Bool?
    /// Application permissions (app roles) on Microsoft Graph, e.g. `User.Read.All`, `Chat.Read.All`.
    public var graphPermissions: [String]?
    /// Application permissions on Exchange Online, e.g. `full_access_as_app`.
    public var outlookPermissions: [String]?
    /// Delegated Graph scopes the app may ask for.
    public var delegatedScopes: [String]?
    /// Delegated Exchange Online scopes, e.g. `EWS.AccessAsUser.All`.
    public var outlookDelegatedScopes: [String]?
    /// Application permissions on the Office 365 Management APIs, e.g. `ActivityFeed.Read`.
    public var managementPermissions: [String]?
    /// Delegated Office 365 Management API scopes, e.g. `ActivityFeed.Read`.
    public var managementDelegatedScopes: [String]?
    /// Whether an administrator has consented (service principal present with its grants).
    public var consented: Bool?
    /// Evaluation budget: Graph calls per calendar month; past it Graph answers 402 Payment Required.
    public var monthlyCallLimit: Int?
    /// PEM certificates uploaded as credentials (Graph `keyCredentials`): client assertions signed by their keys are
    /// accepted. Public material, so the admin API returns them.
    public var certificates: [String]?

    public init(appId: String, displayName: String? = nil, secret: String? = nil, secretExpired: Bool? = nil,
                graphPermissions: [String]? = nil, outlookPermissions: [String]? = nil,
                delegatedScopes: [String]? = nil, outlookDelegatedScopes: [String]? = nil,
                consented: Bool? = nil, monthlyCallLimit: Int? = nil,
                managementPermissions: [String]? = nil, managementDelegatedScopes: [String]? = nil) {
        self.appId = appId
        self.displayName = displayName
        self.secret = secret
        self.secretExpired = secretExpired
        self.graphPermissions = graphPermissions
        self.outlookPermissions = outlookPermissions
        self.delegatedScopes = delegatedScopes
        self.outlookDelegatedScopes = outlookDelegatedScopes
        self.consented = consented
        self.monthlyCallLimit = monthlyCallLimit
        self.managementPermissions = managementPermissions
        self.managementDelegatedScopes = managementDelegatedScopes
    }

    /// The product's multi-tenant app as it is registered in every generated tenant.
    public static func product(clientID: String, secret: String, consented: Bool) -> AppRegistration {
        AppRegistration(
            appId: clientID, displayName: "tenantsync", secret: secret, secretExpired: false,
            // The Teams Chat permissions too: an account provisioned without the customer's own app runs on this app
            // (evaluation mode), as accounts provisioned before the customer's own app was required do.
            graphPermissions: ["User.Read.All", "Group.Read.All", "Directory.Read.All",
                               "RoleManagement.Read.Directory", "Domain.Read.All", "Organization.Read.All",
                               "Chat.Read.All", "Chat.UpdatePolicyViolation.All", "Files.ReadWrite.All"],
            outlookPermissions: ["full_access_as_app", "Exchange.ManageAsApp"],
            delegatedScopes: ["User.Read", "User.Read.All", "Group.Read.All", "Directory.Read.All",
                              "RoleManagement.Read.Directory"],
            // Exchange.Manage: the Inline Mode mail-flow permission (Exchange admin API, InvokeCommand).
            outlookDelegatedScopes: ["EWS.AccessAsUser.All", "Exchange.Manage"],
            consented: consented,
            managementPermissions: ["ActivityFeed.Read"], managementDelegatedScopes: ["ActivityFeed.Read"])
    }
}

/// The emulator's record of an app in a tenant.
struct AppState {
    var registration: AppRegistration
    var servicePrincipalID: String
    var callsThisMonth = 0
    var monthKey = ""
    /// `registration.certificates`, parsed once when they are registered.
    var keyCredentials: [AppCertificate] = []

    var consented: Bool { registration.consented ?? true }

    func applicationPermissions(for resource: EmulatedResource) -> [String] {
        switch resource {
        case .graph: registration.graphPermissions ?? []
        case .outlook: registration.outlookPermissions ?? []
        case .management: registration.managementPermissions ?? []
        }
    }

    func delegatedScopes(for resource: EmulatedResource) -> [String] {
        switch resource {
        case .graph: registration.delegatedScopes ?? []
        case .outlook: registration.outlookDelegatedScopes ?? []
        case .management: registration.managementDelegatedScopes ?? []
        }
    }

    var publicView: AppRegistration {
        var copy = registration
        copy.secret = nil
        copy.additionalSecrets = nil
        copy.consented = consented
        copy.secretExpired = registration.secretExpired ?? false
        return copy
    }
}

/// The resource (audience) a token is issued for.
public enum EmulatedResource: String, Sendable, Codable {
    /// Microsoft Graph (`https://graph.microsoft.com`).
    case graph
    /// Exchange Online (`https://outlook.office365.com`).
    case outlook
    /// The Office 365 Management APIs (`https://manage.office.com`), e.g. the Management Activity API.
    case management

    var identifier: String {
        switch self {
        case .graph: "https://graph.microsoft.com"
        case .outlook: "https://outlook.office365.com"
        case .management: "https://manage.office.com"
        }
    }
}
