/// Classifies failed token requests on the OAuth `error` field and the AADSTS codes.
///
/// Never on the description text: Microsoft rewords it and localizes it.
/// AADSTS codes take precedence over the `error` field because they are more
/// specific (e.g. `invalid_grant` with 50173 and `invalid_client` with 7000222
/// are both permanent, while `temporarily_unavailable` may carry 90033).
public enum TokenErrorClassifier {
    /// AADSTS codes that mean "try again later".
    public static let transientCodes: Set<Int> = [
        50033, // retry: transient error from the identity platform
        90006, // temporary server error
        90024, // temporarily throttled or unavailable
        90033, // a transient error occurred
        90090, // transient error from the login server
        50087, // sign-in failed with a transient error (strong authentication)
    ]

    /// AADSTS codes that mean the grant is dead, with why.
    public static let permanentCodes: [Int: TokenErrorClass.PermanentReason] = [
        70008: .grantRevoked, // refresh token expired (inactivity)
        700082: .grantRevoked, // refresh token expired (90 days)
        50173: .grantRevoked, // grant revoked (password change / session revocation)
        70043: .grantRevoked, // refresh token expired by conditional access sign-in frequency
        54005: .grantRevoked, // authorization code already redeemed
        50076: .interactionRequired, // MFA required
        50079: .interactionRequired, // MFA enrollment required
        65001: .consentMissing, // no consent for the app
        90094: .consentMissing, // admin consent required
        650056: .consentMissing, // misconfigured app / consent missing
        650057: .consentMissing, // invalid resource / permission not consented
        7000215: .clientCredentialsInvalid, // invalid client secret
        7000222: .clientCredentialsInvalid, // client secret expired
        700027: .clientCredentialsInvalid, // client assertion: bad signature, unknown or expired certificate
        700024: .clientCredentialsInvalid, // client assertion outside its validity (the host's clock is wrong)
        700021: .clientCredentialsInvalid, // client assertion issuer is not the client id
        700023: .clientCredentialsInvalid, // client assertion audience is not the token endpoint
        700016: .applicationNotAuthorized, // app not found in the tenant
        7000112: .applicationNotAuthorized, // app disabled
        500011: .tenantOrResourceNotFound, // resource principal not found
        90002: .tenantOrResourceNotFound, // tenant not found
    ]

    /// OAuth `error` values that mean "try again later".
    public static let transientErrors: Set<String> = ["temporarily_unavailable", "server_error"]

    /// OAuth `error` values that kill the grant, when no known AADSTS code says otherwise.
    public static let permanentErrors: [String: TokenErrorClass.PermanentReason] = [
        "invalid_grant": .grantRevoked,
        "interaction_required": .interactionRequired,
        "consent_required": .consentMissing,
        "invalid_client": .clientCredentialsInvalid,
        "unauthorized_client": .applicationNotAuthorized,
    ]

    /// Classifies one failure.
    public static func classify(_ failure: TokenFailure) -> TokenErrorClass {
        if failure.transport != nil { return .transient }
        // The codes are the most specific signal; a transient code wins over a permanent one
        // only if it is listed first, which Microsoft does not do, so check permanent codes first.
        for code in failure.errorCodes {
            if let reason = permanentCodes[code] { return .permanent(reason) }
        }
        for code in failure.errorCodes where transientCodes.contains(code) { return .transient }
        if let status = failure.httpStatus, status == 429 || (500...599).contains(status) { return .transient }
        if let error = failure.error {
            if transientErrors.contains(error) { return .transient }
            if let reason = permanentErrors[error] {
                // A known error field with an AADSTS code we have never seen: still the
                // field decides, since it is what the OAuth contract defines.
                return .permanent(reason)
            }
        }
        return .unrecognized
    }
}
