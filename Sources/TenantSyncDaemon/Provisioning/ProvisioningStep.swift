import struct Foundation.Date
import TenantSyncCore

/// Where a provisioning (or renewal) stands and what the administrator must do next.
struct ProvisioningStep: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// An interactive consent in a browser; see ``ProvisioningStep/consent``.
        case consent
        /// The customer's own app id and secret are needed (Teams Chat).
        case appCredentials
        /// The admin must grant the SharePoint app principal and confirm it (OneDrive).
        case confirmAppPrincipal
        /// The sync scope must be chosen.
        case chooseScope
        case complete
        case failed
    }

    var accountID: Int64
    var tenantID: String
    var service: ServiceKind
    var step: Kind
    /// True when provisioning waits for the operator's input for this step.
    var needsInput: Bool
    /// What to show the administrator.
    var message: String
    var consent: ConsentPrompt?
    var appPrincipal: AppPrincipalPrompt?
    var scope: SyncScope?
    var error: String?

    init(
        accountID: Int64, tenantID: String, service: ServiceKind, step: Kind, needsInput: Bool, message: String,
        consent: ConsentPrompt? = nil, appPrincipal: AppPrincipalPrompt? = nil, scope: SyncScope? = nil, error: String? = nil
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
}

/// An interactive consent the administrator must give in a browser.
struct ConsentPrompt: Sendable, Equatable {
    var grant: String
    var resource: String
    var flow: ConsentMethod
    var verificationURI: String?
    var userCode: String?
    var authorizationURL: String?
    var expiresAt: Date?
    var message: String?

    init(
        grant: String, resource: String, flow: ConsentMethod, verificationURI: String? = nil, userCode: String? = nil,
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

/// The SharePoint app principal the administrator must grant (OneDrive).
struct AppPrincipalPrompt: Sendable, Equatable {
    var appID: String
    /// The `AppPermissionRequests` XML to paste into the SharePoint admin page.
    var permissionXML: String
    var verified: Bool
}
