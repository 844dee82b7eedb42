import Foundation
import TenantSyncCore

/// How an administrator gives an interactive consent.
enum ConsentMethod: String, Sendable, Equatable {
    /// The administrator enters a code at a verification URL on any device.
    case deviceCode = "device_code"
    /// Authorization code with PKCE; the redirect lands on the daemon's loopback listener.
    case authCode = "auth_code"
}

/// The customer's own Entra application (Teams Chat), with a client secret or a certificate credential.
struct CustomerApp: Sendable, Equatable {
    var appID: String
    var clientSecret: Secret?
    /// When the secret stops working, if the administrator said (for the credential expiry alerts).
    var secretExpiresAt: Date? = nil
    /// A certificate credential: the PEM certificate and its PEM private key, as `tenantsyncctl` read them.
    /// Parsed (and the pair checked) only by ``credential()``, so a bad pair fails the step with a clear error.
    var certificatePEM: String? = nil
    var privateKey: Secret? = nil
}

/// The sync scope an administrator picks.
struct ScopeSelection: Sendable, Equatable {
    var scope: SyncScope
    /// Selected scope: users by exact user principal name.
    var users: [String]?
    /// Selected scope: the members of groups whose name starts with these.
    var groupPrefixes: [String]?
}

/// A new service account for a tenant, or the resumption of an unfinished one for the same tenant and service.
struct ProvisioningRequest: Sendable {
    var service: ServiceKind
    /// Tenant id or primary domain.
    var tenant: String
    var consentFlow: ConsentMethod?
    var app: CustomerApp?
    var licensingModel: LicensingModel?
    var scope: ScopeSelection?
    /// Inline Mode: the policy to enable on completion.
    var policy: String?
    /// Inline Mode: inbound only, or inbound and outbound.
    var direction: InlineDirection?
}

/// The input the current step of an unfinished provisioning asked for.
struct ProvisioningContinuation: Sendable {
    var accountID: Int64
    var app: CustomerApp?
    var confirmAppPrincipal: Bool?
    var scope: ScopeSelection?
    /// The method of any consent still to come.
    var consentFlow: ConsentMethod?
}

/// New grants for an existing account.
struct RenewalRequest: Sendable {
    var id: Int64
    var consentFlow: ConsentMethod?
    var app: CustomerApp?
    var licensingModel: LicensingModel?
}

/// The optional activity-data consent of an Inline Mode account.
struct ActivityDataRequest: Sendable {
    var id: Int64
    var consentFlow: ConsentMethod?
}

/// A service account removed by deprovisioning, as it was.
struct RemovedAccount: Sendable {
    var account: ServiceAccount
    var tenantDomain: String
}
