import TenantSyncCore

/// Where the Microsoft identity platform, Graph and Exchange Online live.
///
/// The public cloud by default; `[microsoft] cloud` picks a national cloud's hosts
/// (``init(cloud:)``), and the local emulator or a gateway sets its own
/// (`[microsoft] authority`, `graph`, `outlook`, `management`). Every scope is derived
/// from these roots, so a token is only ever asked for, and sent to, one cloud.
public struct MicrosoftEndpoints: Sendable, Equatable {
    /// The identity platform authority, e.g. `https://login.microsoftonline.com`.
    public var authority: String
    /// The Microsoft Graph root, e.g. `https://graph.microsoft.com`.
    public var graph: String
    /// The Exchange Online (EWS) root, e.g. `https://outlook.office365.com`.
    public var outlook: String
    /// The Office 365 Management APIs root (activity data), e.g. `https://manage.office.com`.
    public var management: String

    public static let publicCloud = MicrosoftEndpoints(
        authority: "https://login.microsoftonline.com",
        graph: "https://graph.microsoft.com",
        outlook: "https://outlook.office365.com",
        management: "https://manage.office.com"
    )

    public init(authority: String, graph: String, outlook: String, management: String = "https://manage.office.com") {
        self.authority = authority.trimmingSuffix("/")
        self.graph = graph.trimmingSuffix("/")
        self.outlook = outlook.trimmingSuffix("/")
        self.management = management.trimmingSuffix("/")
    }

    /// A cloud's hosts, per Microsoft's "Microsoft Graph national cloud deployments" table (see ``NationalCloud``).
    public init(cloud: NationalCloud) {
        self.init(authority: cloud.authority, graph: cloud.graph, outlook: cloud.outlook, management: cloud.management)
    }

    /// The v2.0 token endpoint of a tenant (GUID or domain).
    public func tokenURL(tenant: String) -> String { "\(authority)/\(tenant)/oauth2/v2.0/token" }
    /// The v2.0 device-code endpoint of a tenant.
    public func deviceCodeURL(tenant: String) -> String { "\(authority)/\(tenant)/oauth2/v2.0/devicecode" }
    /// The v2.0 authorization endpoint of a tenant.
    public func authorizeURL(tenant: String) -> String { "\(authority)/\(tenant)/oauth2/v2.0/authorize" }
    /// The `.default` scope of Microsoft Graph.
    public var graphDefaultScope: String { "\(graph)/.default" }
    /// The `.default` scope of Exchange Online (EWS).
    public var outlookDefaultScope: String { "\(outlook)/.default" }
    /// The `.default` scope of the Office 365 Management APIs.
    public var managementDefaultScope: String { "\(management)/.default" }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: Character) -> String {
        var copy = self
        while copy.last == suffix { copy.removeLast() }
        return copy
    }
}
