/// One of the Microsoft 365 services tenantsync can protect.
///
/// The raw values are a contract: the CLI, the control socket, the database
/// and the journal all use them, so they never change once released.
public enum ServiceKind: String, CaseIterable, Codable, Sendable, Hashable {
    case exchangeOnline = "exchange-online"
    case exchangeOnlineInline = "exchange-online-inline"
    case sharepointOnline = "sharepoint-online"
    case onedrive = "onedrive"
    case teamsChat = "teams-chat"

    /// The name the Microsoft 365 console uses for the service.
    public var displayName: String {
        switch self {
        case .exchangeOnline: "Exchange Online"
        case .exchangeOnlineInline: "Exchange Online (Inline Mode)"
        case .sharepointOnline: "SharePoint Online"
        case .onedrive: "OneDrive"
        case .teamsChat: "Teams Chat"
        }
    }

    /// The success notice announced on every alert channel once the account is active.
    public var protectedNotice: String {
        switch self {
        case .exchangeOnlineInline: "Successfully created a service account and synced data."
        default: "\(displayName) protected."
        }
    }

    /// Whether the service takes part in the tenant-wide shared sync scope.
    ///
    /// Exchange Online, SharePoint Online and OneDrive of one tenant must use
    /// the same sync scope: they protect the same directory of targets.
    public var sharesDirectoryScope: Bool {
        switch self {
        case .exchangeOnline, .sharepointOnline, .onedrive: true
        case .exchangeOnlineInline, .teamsChat: false
        }
    }

    /// Parses a service name as operators type it.
    public init?(argument: String) {
        self.init(rawValue: argument.lowercased())
    }
}

extension ServiceKind {
    /// The display name after its indefinite article, for sentences: "an Exchange Online", "a OneDrive".
    public var displayNameWithArticle: String { IndefiniteArticle.prefixed(displayName) }
}
