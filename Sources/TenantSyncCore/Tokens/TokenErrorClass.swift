/// How a failed token request must be handled.
public enum TokenErrorClass: Sendable, Equatable {
    /// Microsoft or the network is having trouble; retry with backoff.
    case transient
    /// Microsoft refused the grant for good; an administrator must renew it.
    case permanent(PermanentReason)
    /// Neither list knows the error; retried a bounded number of times, then treated as permanent.
    case unrecognized

    /// Why a grant was refused for good, in the words an operator acts on.
    public enum PermanentReason: String, Sendable, Equatable, CaseIterable {
        /// The refresh token was revoked, expired or is otherwise unusable (`invalid_grant`).
        case grantRevoked = "grant-revoked"
        /// The user or an administrator must sign in again (MFA, conditional access, password change).
        case interactionRequired = "interaction-required"
        /// Admin consent for the app is missing or was withdrawn.
        case consentMissing = "consent-missing"
        /// The app's credentials are wrong or its client secret expired.
        case clientCredentialsInvalid = "client-credentials-invalid"
        /// The app is not registered, disabled or not allowed this grant in the tenant.
        case applicationNotAuthorized = "application-not-authorized"
        /// The tenant or the resource principal does not exist.
        case tenantOrResourceNotFound = "tenant-or-resource-not-found"
        /// An error not on the known list kept failing; treated as permanent after the retry limit.
        case unrecognizedAfterRetries = "unrecognized-after-retries"

        /// One sentence for the alert body: what it means.
        public var explanation: String {
            switch self {
            case .grantRevoked: "Microsoft revoked or expired the refresh token (for example after a password reset, a sign-out of all sessions, or 90 days without use)."
            case .interactionRequired: "Microsoft requires an administrator to sign in again (multi-factor authentication or a conditional access policy)."
            case .consentMissing: "The administrator consent for the tenantsync application is missing or was withdrawn."
            case .clientCredentialsInvalid: "The application's credentials were refused: the client secret is wrong or expired."
            case .applicationNotAuthorized: "The application is not registered, is disabled, or is not allowed this grant in the tenant."
            case .tenantOrResourceNotFound: "The tenant or the resource the grant is for was not found."
            case .unrecognizedAfterRetries: "Microsoft kept answering with an error tenantsync does not recognize; it was retried and is now treated as permanent."
            }
        }
    }
}
