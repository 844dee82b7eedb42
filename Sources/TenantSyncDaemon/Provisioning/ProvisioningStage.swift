import TenantSyncCore

/// One step of a service's provisioning, as recorded in `service_accounts.provisioning_step`.
enum ProvisioningStage: String, Sendable, CaseIterable {
    /// Delegated consent for Exchange Web Services (Exchange Online, first consent).
    case consentEWS = "consent-ews"
    /// Delegated consent for Microsoft Graph.
    case consentGraph = "consent-graph"
    /// Inline Mode: delegated consent to configure the Exchange mail flow.
    case consentMailFlow = "consent-mail-flow"
    /// SharePoint Online / OneDrive: the administrator grants the app principal and confirms.
    case appPrincipal = "app-principal"
    /// Inline Mode: the Exchange Administrator role assigned to the app, verified through Graph.
    case exchangeRole = "exchange-role"
    /// Teams Chat: the customer's own app id and secret (or evaluation mode).
    case appCredentials = "app-credentials"
    /// The sync scope (all or selected targets).
    case scope
    /// Verification call, first directory sync, account active, success notice (Inline Mode: the mail flow first).
    case finish
    /// Inline Mode, after provisioning: the optional activity-data consent (never a step of `stages(for:)`).
    case consentActivityData = "consent-activity-data"

    /// The stages of a service, in the order the administrator goes through them.
    static func stages(for service: ServiceKind) -> [ProvisioningStage] {
        switch service {
        case .exchangeOnline: [.consentEWS, .consentGraph, .scope, .finish]
        case .sharepointOnline, .onedrive: [.consentGraph, .appPrincipal, .scope, .finish]
        case .teamsChat: [.appCredentials, .finish]
        // Role verification reads role assignments through Graph, so the directory-read consent comes first.
        case .exchangeOnlineInline: [.consentMailFlow, .consentGraph, .exchangeRole, .finish]
        }
    }

    /// The stage after this one for `service`.
    func next(for service: ServiceKind) -> ProvisioningStage {
        let all = Self.stages(for: service)
        guard let index = all.firstIndex(of: self), index + 1 < all.count else { return .finish }
        return all[index + 1]
    }

    /// The grant a consent stage produces: its name inside the account.
    var grantName: String? {
        switch self {
        case .consentEWS: "ews"
        case .consentGraph: "graph"
        case .consentMailFlow: "mail-flow"
        case .consentActivityData: "activity-data"
        default: nil
        }
    }

    /// What the stage is, for messages.
    var title: String {
        switch self {
        case .consentEWS: "the Exchange Web Services (EWS) consent"
        case .consentGraph: "the Microsoft Graph consent"
        case .consentMailFlow: "the Exchange mail-flow permission consent"
        case .appPrincipal: "the SharePoint app principal"
        case .exchangeRole: "the Exchange Administrator role of the app"
        case .appCredentials: "the Teams Chat app credentials"
        case .scope: "the sync scope"
        case .finish: "the verification and first sync"
        case .consentActivityData: "the activity-data consent (Office 365 Management Activity API)"
        }
    }
}
