/// The life cycle of a service account.
public enum AccountState: String, Codable, Sendable, CaseIterable {
    /// Consent or verification steps are still open; `provisioningStep` says which.
    case provisioning
    /// Every grant holds a working token set.
    case active
    /// At least one grant is invalid; an administrator must renew it.
    case tokenInvalid = "token-invalid"
}

/// The state of one OAuth grant inside an account.
public enum GrantState: String, Codable, Sendable, CaseIterable {
    /// Waiting for consent; no token yet.
    case pending
    /// Holds a token set the daemon keeps fresh.
    case valid
    /// Microsoft refused the grant permanently; it is not used until renewed.
    case invalid
}

/// How a grant obtains its tokens.
public enum GrantFlow: String, Codable, Sendable, CaseIterable {
    /// Delegated consent by an administrator (device code or authorization code);
    /// refreshed with a refresh token.
    case delegated
    /// Application permissions with a client secret; no refresh token.
    case clientCredentials = "client-credentials"
}
