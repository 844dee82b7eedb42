/// Where the Microsoft identity platform, Graph and Exchange Online live.
///
/// The public cloud by default; national clouds and the local emulator set
/// their own (`[microsoft] authority`, `graph`, `outlook`).
public struct MicrosoftEndpoints: Sendable, Equatable {
    /// The identity platform authority, e.g. `https://login.microsoftonline.com`.
    public var authority: String
    /// The Microsoft Graph root, e.g. `https://graph.microsoft.com`.
    public var graph: String
    /// The Exchange Online (EWS) root, e.g. `https://outlook.office365.com`.
    public var outlook: String

    public static let publicCloud = MicrosoftEndpoints(
        authority: "https://login.microsoftonline.com",
        graph: "https://graph.microsoft.com",
        outlook: "https://outlook.office365.com"
    )

    public init(authority: String, graph: String, outlook: String) {
        self.authority = authority.trimmingSuffix("/")
        self.graph = graph.trimmingSuffix("/")
        self.outlook = outlook.trimmingSuffix("/")
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
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: Character) -> String {
        var copy = self
        while copy.last == suffix { copy.removeLast() }
        return copy
    }
}
