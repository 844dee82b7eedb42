import TenantSyncCore

/// What the identity platform sent back to the loopback redirect URI (authorization-code flow).
///
/// Microsoft redirects with `code` and `state` on success, with `error`, `error_description`
/// (and sometimes `error_subcode`) when the sign-in or consent failed, and — from the
/// `/adminconsent` endpoint — with `admin_consent=True` and `tenant` instead of a code.
public enum AuthorizationRedirect: Sendable, Equatable {
    /// The authorization code to redeem with the PKCE verifier; never logged.
    case code(Secret)
    /// An admin-consent confirmation (`admin_consent=True`): consent recorded, but no code to redeem.
    case adminConsent(tenant: String?)
    /// The administrator declined or the identity platform refused (`error=...`).
    case error(error: String, description: String?, subcode: String?)
    /// Neither `code`, `error` nor `admin_consent`: not a redirect the identity platform sends.
    case malformed
}
