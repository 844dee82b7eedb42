/// One of Microsoft's cloud deployments: the worldwide service or a national cloud (`[microsoft] cloud`).
///
/// A national cloud is a network-isolated instance with its own identity platform, Graph, Exchange Online
/// and Management API hosts; an app registered in one cannot get tokens in another, and a token of one is
/// refused by the others. The hosts follow Microsoft's "Microsoft Graph national cloud deployments" table
/// (app registration and token service root endpoints; Microsoft Graph service root endpoints), the Exchange
/// Online endpoints of "Exchange Online in Office 365 Government / operated by 21Vianet" and the Office 365
/// Management Activity API reference (its enterprise, GCC High, DoD and 21Vianet roots). They live in the
/// core, not in the HTTP adapter, because the configuration loader resolves them and refuses a mix.
public enum NationalCloud: String, Sendable, Equatable, CaseIterable {
    /// Microsoft's worldwide service (commercial and GCC tenants).
    case global
    /// Microsoft Cloud for US Government, L4 (GCC High).
    case usgov
    /// Microsoft Cloud for US Government, L5 (DoD).
    case usgovDoD = "usgov-dod"
    /// Microsoft 365 operated by 21Vianet in China.
    case china

    /// The identity platform authority (the Microsoft Entra ID endpoint of the table).
    public var authority: String {
        switch self {
        case .global: "https://login.microsoftonline.com"
        // GCC High and DoD share the US Government identity platform.
        case .usgov, .usgovDoD: "https://login.microsoftonline.us"
        case .china: "https://login.chinacloudapi.cn"
        }
    }

    /// The Microsoft Graph service root.
    public var graph: String {
        switch self {
        case .global: "https://graph.microsoft.com"
        case .usgov: "https://graph.microsoft.us"
        case .usgovDoD: "https://dod-graph.microsoft.us"
        case .china: "https://microsoftgraph.chinacloudapi.cn"
        }
    }

    /// The Exchange Online (EWS, admin API) root.
    public var outlook: String {
        switch self {
        case .global: "https://outlook.office365.com"
        case .usgov: "https://outlook.office365.us"
        case .usgovDoD: "https://webmail.apps.mil"
        case .china: "https://partner.outlook.cn"
        }
    }

    /// The Office 365 Management Activity API root.
    public var management: String {
        switch self {
        case .global: "https://manage.office.com"
        case .usgov: "https://manage.office365.us"
        case .usgovDoD: "https://manage.protection.apps.mil"
        case .china: "https://manage.office.cn"
        }
    }

    /// Every root of the cloud, in configuration-key order (`authority`, `graph`, `outlook`, `management`).
    public var roots: [String] { [authority, graph, outlook, management] }

    /// The cloud whose hosts include `host` (case-insensitive), or `nil` for any other host (the emulator, a gateway).
    ///
    /// `login.microsoftonline.us` belongs to both US Government clouds; it answers `usgov`, and
    /// ``sameCloud(_:_:)`` treats the two as one identity platform.
    public static func owning(host: String) -> NationalCloud? {
        let lower = host.lowercased()
        for cloud in allCases where cloud.roots.contains(where: { Self.host(of: $0) == lower }) { return cloud }
        return nil
    }

    /// Whether tokens of `a` may be used with `b`: the same cloud, or the two US Government clouds' shared authority.
    public static func sameCloud(_ a: NationalCloud, _ b: NationalCloud) -> Bool {
        a == b || (Set([a, b]) == [.usgov, .usgovDoD])
    }

    /// The host of an `https://host[:port]/…` root.
    public static func host(of url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let withoutUser = authority.split(separator: "@").last.map(String.init) ?? String(authority)
        if withoutUser.hasPrefix("[") { return withoutUser.dropFirst().prefix { $0 != "]" }.lowercased() }
        return withoutUser.prefix { $0 != ":" }.lowercased()
    }
}
