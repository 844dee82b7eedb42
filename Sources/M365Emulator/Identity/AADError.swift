/// An identity-platform error in Microsoft's shape.
///
/// Shape per the Microsoft identity platform docs ("Error response" of the OAuth 2.0 flows):
/// `error`, `error_description` = "AADSTSnnnnn: message" followed by Trace ID, Correlation ID and
/// Timestamp lines, `error_codes`, `timestamp`, `trace_id`, `correlation_id`, `error_uri`, and
/// `suberror` for the cases where Microsoft adds one (`consent_required`, `bad_token`).
struct AADError: Error, Sendable {
    var status: Int
    var error: String
    var code: Int
    var message: String
    var suberror: String?

    init(_ error: String, _ code: Int, _ message: String, status: Int? = nil, suberror: String? = nil) {
        self.error = error
        self.code = code
        self.message = message
        // invalid_client is answered with 401, every other OAuth error with 400.
        self.status = status ?? (error == "invalid_client" ? 401 : 400)
        self.suberror = suberror
    }

    func response(now: Double, baseURL: String, correlationID: String?) -> EmulatorResponse {
        let trace = RandomMaterial.guid()
        let correlation = correlationID ?? RandomMaterial.guid()
        let stamp = EmulatorTime.aadTimestamp(now)
        var w = JSONWriter()
        w.raw("{")
        w.key("error"); w.string(error); w.comma()
        w.key("error_description")
        w.string("AADSTS\(code): \(message)\r\nTrace ID: \(trace)\r\nCorrelation ID: \(correlation)\r\nTimestamp: \(stamp)")
        w.comma()
        w.key("error_codes"); w.raw("[\(code)]"); w.comma()
        w.key("timestamp"); w.string(stamp); w.comma()
        w.key("trace_id"); w.string(trace); w.comma()
        w.key("correlation_id"); w.string(correlation); w.comma()
        w.key("error_uri"); w.string("\(baseURL)/error?code=\(code)")
        if let suberror { w.comma(); w.key("suberror"); w.string(suberror) }
        w.raw("}")
        return .json(status, w, headers: [("Cache-Control", "no-store, no-cache"), ("x-ms-request-id", trace)])
    }

    // MARK: Catalogue (codes and wording from Microsoft's AADSTS error code reference)

    static func tenantNotFound(_ tenant: String) -> AADError {
        AADError("invalid_request", 90002, "Tenant '\(tenant)' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.")
    }

    static func missingParameter(_ name: String) -> AADError {
        AADError("invalid_request", 900144, "The request body must contain the following parameter: '\(name)'.")
    }

    static func unsupportedGrantType(_ grant: String) -> AADError {
        AADError("unsupported_grant_type", 70003, "The app requested an unsupported grant type '\(grant)'.")
    }

    static func applicationNotFound(_ appID: String, tenant: String) -> AADError {
        AADError("unauthorized_client", 700016, "Application with identifier '\(appID)' was not found in the directory '\(tenant)'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.")
    }

    static func invalidSecret(_ appID: String) -> AADError {
        AADError("invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '\(appID)'.")
    }

    static func secretExpired(_ appID: String) -> AADError {
        AADError("invalid_client", 7000222, "The provided client secret keys for app '\(appID)' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.")
    }

    static func secretRequired() -> AADError {
        AADError("invalid_client", 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.")
    }

    static func clientCredentialsScope(_ scope: String) -> AADError {
        AADError("invalid_scope", 1002012, "The provided value for scope \(scope) is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).")
    }

    static func invalidScope(_ scope: String) -> AADError {
        AADError("invalid_scope", 70011, "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope \(scope) is not valid.")
    }

    static func multipleResources() -> AADError {
        AADError("invalid_scope", 28000, "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope is not valid.")
    }

    static func malformedGrant() -> AADError {
        AADError("invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
    }

    static func codeRedeemed() -> AADError {
        AADError("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
    }

    static func codeExpired() -> AADError {
        AADError("invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.", suberror: "bad_token")
    }

    static func pkceMismatch() -> AADError {
        AADError("invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
    }

    static func redirectMismatch() -> AADError {
        AADError("invalid_grant", 70002, "The request redirect_uri does not match the redirect_uri of the authorization code.")
    }

    static func consentRequired(_ appID: String) -> AADError {
        AADError("invalid_grant", 65001, "The user or administrator has not consented to use the application with ID '\(appID)'. Send an interactive authorization request for this user and resource.", suberror: "consent_required")
    }

    /// A refresh token revoked through the admin API, with the code the test chose.
    static func revokedRefreshToken(code: Int, issuedAt: Double, revokedAt: Double) -> AADError {
        switch code {
        case 700082:
            return AADError("invalid_grant", 700082, "The refresh token has expired due to inactivity. The token was issued on \(EmulatorTime.iso(issuedAt)) and was inactive for 90.00:00:00.", suberror: "bad_token")
        case 50173:
            return AADError("invalid_grant", 50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '\(EmulatorTime.iso(issuedAt))' and the TokensValidFrom date (before which tokens are not valid) for this user is '\(EmulatorTime.iso(revokedAt))'.", suberror: "bad_token")
        default:
            return AADError("invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.", suberror: "bad_token")
        }
    }

    static func refreshTokenReused() -> AADError {
        // Strict rotation is an emulator mode: reuse is reported like a revoked grant.
        AADError("invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource. (The refresh token was already redeemed and this tenant is in strict rotation mode.)", suberror: "bad_token")
    }

    static func authorizationPending() -> AADError {
        AADError("authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
    }

    static func slowDown() -> AADError {
        AADError("slow_down", 70016, "OAuth 2.0 device flow error. Polling too frequently: wait the interval between requests.")
    }

    static func authorizationDeclined() -> AADError {
        AADError("authorization_declined", 70000, "The end user denied the authorization request.")
    }

    static func deviceCodeExpired() -> AADError {
        AADError("expired_token", 70019, "Verification code expired. Have the user retry the sign-in.")
    }

    static func badDeviceCode() -> AADError {
        AADError("invalid_grant", 70000, "The provided value for the input parameter 'device_code' is not valid.")
    }

    static func invalidRedirectURI(_ uri: String, appID: String) -> AADError {
        AADError("invalid_request", 50011, "The redirect URI '\(uri)' specified in the request does not match the redirect URIs configured for the application '\(appID)'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal.")
    }

    static func userDeclinedConsent() -> AADError {
        AADError("access_denied", 65004, "User declined to consent to access the app.")
    }

    static func serviceUnavailable() -> AADError {
        AADError("temporarily_unavailable", 90033, "A transient error has occurred. Please try again.", status: 503)
    }

    static func serverError(status: Int) -> AADError {
        AADError("server_error", 50000, "There was an error issuing a token or an issue with our sign-in service.", status: status)
    }
}

// MARK: Client assertions (certificate credentials)

extension AADError {
    static func assertionTypeUnsupported(_ type: String) -> AADError {
        AADError("invalid_request", 50027, "JWT token is invalid or malformed. The client_assertion_type '\(type)' is not supported; use 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.")
    }

    static func malformedAssertion() -> AADError {
        AADError("invalid_client", 50027, "JWT token is invalid or malformed.")
    }

    static func assertionKeyNotFound(appID: String, thumbprint: String) -> AADError {
        AADError("invalid_client", 700027, "Client assertion failed signature validation. [Reason - The key was not found., Thumbprint of key used by client: '\(thumbprint)', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '\(appID)'.]")
    }

    static func assertionAlgorithmUnsupported(_ alg: String) -> AADError {
        AADError("invalid_client", 700027, "Client assertion failed signature validation. [Reason - The signing algorithm '\(alg)' is not supported; use PS256 or RS256.]")
    }

    static func assertionBadSignature(appID: String) -> AADError {
        AADError("invalid_client", 700027, "Client assertion contains an invalid signature. [Reason - The provided signature value did not match the expected signature value., Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '\(appID)'.]")
    }

    static func assertionKeyExpired(appID: String) -> AADError {
        AADError("invalid_client", 700027, "Client assertion contains an invalid signature. [Reason - The key used is expired., Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '\(appID)'.]")
    }

    static func assertionAppMismatch() -> AADError {
        AADError("invalid_client", 700021, "Client assertion application identifier doesn't match 'client_id' parameter.")
    }

    static func assertionAudienceMismatch() -> AADError {
        AADError("invalid_client", 700023, "Client assertion audience claim does not match Realm issuer.")
    }

    static func assertionOutsideValidity(notBefore: Double, expires: Double, now: Double) -> AADError {
        AADError("invalid_client", 700024, "Client assertion is not within its valid time range. Current time: \(EmulatorTime.iso(now)), assertion valid from \(EmulatorTime.iso(notBefore)), expiry time of assertion \(EmulatorTime.iso(expires)).")
    }

    /// Microsoft's reference lists no code of its own for a replayed `jti`; it is answered as an invalid assertion.
    static func assertionReplayed(_ id: String) -> AADError {
        AADError("invalid_client", 50013, "Assertion failed signature validation. [Reason - The assertion with jti '\(id)' was already used.]")
    }
}
