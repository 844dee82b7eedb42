import Crypto
import Foundation

/// The v2.0 token endpoint: authorization_code (+PKCE), refresh_token, client_credentials, device_code.
extension World {
    mutating func handleToken(_ request: EmulatorRequest, tenantKey: String, baseURL: String, now: Double) throws(AADError) -> EmulatorResponse {
        guard let t = tenantIndex(tenantKey) else { throw .tenantNotFound(tenantKey) }
        let tenant = tenants[t]
        let form = request.form
        tenant.count("token")
        guard let grant = form["grant_type"], !grant.isEmpty else { throw .missingParameter("grant_type") }
        tenant.count("token.\(grant)")
        guard let clientID = form["client_id"], !clientID.isEmpty else { throw .missingParameter("client_id") }
        guard let app = tenant.app(clientID) else { throw .applicationNotFound(clientID, tenant: tenant.id) }
        // A certificate credential: checked here once for every grant; `checkSecret` then accepts the request without a secret.
        if form["client_assertion"] != nil || form["client_assertion_type"] != nil {
            try verifyClientAssertion(form, app: app, tenant: t, tenantKey: tenantKey, baseURL: baseURL, now: now)
        }
        // The claims request: client capabilities (cp1) and the claims of a challenge being answered.
        if let claims = form["claims"] {
            let request = try ClaimsRequest.parse(claims)
            if request.declaresCP1 { tenant.count("token.cp1") }
            if request.answersChallenge { tenant.count("token.claims_challenge") }
        }
        switch grant {
        case "client_credentials":
            return try clientCredentials(tenant: t, app: app, form: form, now: now)
        case "refresh_token":
            return try refresh(tenant: t, app: app, form: form, now: now)
        case "authorization_code":
            return try redeemCode(tenant: t, app: app, form: form, now: now)
        case "urn:ietf:params:oauth:grant-type:device_code", "device_code":
            return try redeemDeviceCode(tenant: t, app: app, form: form, now: now)
        default:
            throw .unsupportedGrantType(grant)
        }
    }

    /// Checks a confidential client's secret when one is sent (required for client credentials).
    private func checkSecret(_ app: AppState, form: [String: String], required: Bool) throws(AADError) {
        guard let secret = form["client_secret"] else {
            if required, form["client_assertion"] == nil { throw .secretRequired() }
            return
        }
        // Constant-time comparison of the digests, so timing does not leak the secret. Any of the app's
        // credentials is accepted, as Microsoft does while a rotation keeps the old and the new secret.
        let given = Data(SHA256.hash(data: Data(secret.utf8)))
        let valid = ([app.registration.secret].compactMap { $0 } + (app.registration.additionalSecrets ?? [])).reduce(false) { found, candidate in
            (Data(SHA256.hash(data: Data(candidate.utf8))) == given) || found
        }
        guard valid else { throw .invalidSecret(app.registration.appId) }
        if app.registration.secretExpired == true { throw .secretExpired(app.registration.appId) }
    }

    private mutating func clientCredentials(tenant t: Int, app: AppState, form: [String: String], now: Double) throws(AADError) -> EmulatorResponse {
        try checkSecret(app, form: form, required: true)
        guard let rawScope = form["scope"], !rawScope.isEmpty else { throw .missingParameter("scope") }
        let scope = try ScopeRequest.parse(rawScope)
        guard scope.isDefault, scope.names.isEmpty else { throw .clientCredentialsScope(rawScope) }
        // Without admin consent the token carries no roles; Graph then answers 403, as Microsoft does.
        let roles = app.consented ? app.applicationPermissions(for: scope.resource) : []
        return issue(capable: ClaimsRequest.declaresCP1(form), tenant: t, appID: app.registration.appId, resource: scope.resource, permissions: roles,
                     appOnly: true, user: nil, scopeText: nil, refreshScope: nil, now: now)
    }

    private mutating func refresh(tenant t: Int, app: AppState, form: [String: String], now: Double) throws(AADError) -> EmulatorResponse {
        guard let token = form["refresh_token"], !token.isEmpty else { throw .missingParameter("refresh_token") }
        guard var record = refreshTokens[token], record.tenant == t else { throw .malformedGrant() }
        guard record.appID.lowercased() == app.registration.appId.lowercased() else {
            throw AADError("invalid_grant", 70000, "Provided grant is invalid or malformed. The refresh token was issued to a different client.")
        }
        if let code = record.revokedCode {
            throw .revokedRefreshToken(code: code, issuedAt: record.issuedAt, revokedAt: record.revokedAt ?? now)
        }
        let settings = tenants[t].settings
        if settings.strictRefreshTokens, record.redeemed {
            guard settings.strictRefreshTokenRetry, !record.successorRedeemed else {
                tenants[t].count("token.refresh_token.reused")
                throw .refreshTokenReused()
            }
            tenants[t].count("token.refresh_token.retried")
        }
        if now - record.lastUsedAt > Double(settings.refreshTokenInactivitySeconds) {
            throw .revokedRefreshToken(code: 700082, issuedAt: record.issuedAt, revokedAt: now)
        }
        guard app.consented else { throw .consentRequired(app.registration.appId) }
        try checkSecret(app, form: form, required: false)
        let scopeText = form["scope"].flatMap { $0.isEmpty ? nil : $0 } ?? record.scope
        let scope = try ScopeRequest.parse(scopeText)
        record.redeemed = true
        record.lastUsedAt = now
        refreshTokens[token] = record
        if let parent = record.parent { refreshTokens[parent]?.successorRedeemed = true }
        let permissions = scope.isDefault ? app.delegatedScopes(for: scope.resource) : scope.names
        return issue(capable: ClaimsRequest.declaresCP1(form), tenant: t, appID: app.registration.appId, resource: scope.resource, permissions: permissions,
                     appOnly: false, user: record.user, scopeText: scopeText,
                     refreshScope: scopeText, issuedAt: record.issuedAt, parent: token, now: now)
    }

    private mutating func redeemCode(tenant t: Int, app: AppState, form: [String: String], now: Double) throws(AADError) -> EmulatorResponse {
        guard let code = form["code"], !code.isEmpty else { throw .missingParameter("code") }
        guard var record = authorizationCodes[code], record.tenant == t else { throw .malformedGrant() }
        if record.redeemed { throw .codeRedeemed() }
        if now >= record.expiresAt { throw .codeExpired() }
        guard record.appID.lowercased() == app.registration.appId.lowercased() else {
            throw AADError("invalid_grant", 70000, "Provided grant is invalid or malformed. The code was issued to a different client.")
        }
        if let redirect = form["redirect_uri"], redirect != record.redirectURI { throw .redirectMismatch() }
        if let challenge = record.codeChallenge {
            guard let verifier = form["code_verifier"], !verifier.isEmpty else {
                throw AADError("invalid_request", 501491, "Must have 'code_verifier' when 'code_challenge' was supplied in the authorization request.")
            }
            // RFC 7636 §4.6: S256 compares BASE64URL(SHA256(ASCII(code_verifier))) with the challenge.
            let computed: String
            if (record.codeChallengeMethod ?? "plain").uppercased() == "S256" {
                computed = Data(SHA256.hash(data: Data(verifier.utf8))).base64URLEncoded
            } else {
                computed = verifier
            }
            guard computed == challenge else { throw .pkceMismatch() }
        }
        try checkSecret(app, form: form, required: false)
        record.redeemed = true
        authorizationCodes[code] = record
        let scope = try ScopeRequest.parse(record.scope)
        let permissions = scope.isDefault ? app.delegatedScopes(for: scope.resource) : scope.names
        return issue(capable: ClaimsRequest.declaresCP1(form), tenant: t, appID: app.registration.appId, resource: scope.resource, permissions: permissions,
                     appOnly: false, user: record.user, scopeText: record.scope,
                     refreshScope: scope.offlineAccess ? record.scope : nil, now: now)
    }

    private mutating func redeemDeviceCode(tenant t: Int, app: AppState, form: [String: String], now: Double) throws(AADError) -> EmulatorResponse {
        guard let code = form["device_code"], !code.isEmpty else { throw .missingParameter("device_code") }
        guard var record = deviceCodes[code], record.tenant == t,
              record.appID.lowercased() == app.registration.appId.lowercased() else { throw .badDeviceCode() }
        if now >= record.expiresAt { throw .deviceCodeExpired() }
        // RFC 8628 §3.5: polling faster than `interval` answers slow_down.
        if let last = record.lastPollAt, now - last < Double(record.interval) {
            record.lastPollAt = now
            deviceCodes[code] = record
            throw .slowDown()
        }
        record.lastPollAt = now
        deviceCodes[code] = record
        switch record.status {
        case .pending: throw .authorizationPending()
        case .declined: throw .authorizationDeclined()
        case .redeemed: throw .badDeviceCode()
        case .approved(let user):
            record.status = .redeemed
            deviceCodes[code] = record
            deviceCodeByUserCode[record.userCode] = nil
            let scope = try ScopeRequest.parse(record.scope)
            let permissions = scope.isDefault ? app.delegatedScopes(for: scope.resource) : scope.names
            return issue(capable: ClaimsRequest.declaresCP1(form), tenant: t, appID: app.registration.appId, resource: scope.resource, permissions: permissions,
                         appOnly: false, user: user, scopeText: record.scope,
                         refreshScope: scope.offlineAccess ? record.scope : nil, now: now)
        }
    }

    /// Issues an access token (and a refresh token when the flow yields one) and writes the success JSON.
    mutating func issue(capable: Bool = false, tenant t: Int, appID: String, resource: EmulatedResource, permissions: [String],
                        appOnly: Bool, user: Int?, scopeText: String?, refreshScope: String?,
                        issuedAt: Double? = nil, parent: String? = nil, now: Double) -> EmulatorResponse {
        let tenant = tenants[t]
        let lifetime = accessTokenLifetime(tenant)
        let accessToken = RandomMaterial.token(prefix: "eyJ0eXAiOiJFTVUifQ.", bytes: 64)
        issuedTokens += 1
        accessTokens[accessToken] = AccessTokenRecord(
            tenant: t, appID: appID, resource: resource, permissions: permissions, appOnly: appOnly,
            user: user, expiresAt: now + Double(lifetime), capable: capable, serial: issuedTokens)
        var refreshToken: String?
        if let refreshScope {
            let token = RandomMaterial.token(prefix: "0.AAAA", bytes: 96)
            refreshTokens[token] = RefreshTokenRecord(tenant: t, appID: appID, user: user, scope: refreshScope,
                                                      issuedAt: issuedAt ?? now, lastUsedAt: now, parent: parent)
            refreshToken = token
        }
        var w = JSONWriter(capacity: 512)
        w.raw("{")
        w.key("token_type"); w.string("Bearer"); w.comma()
        if !appOnly {
            let qualified = permissions.map { resource == .graph ? $0 : "\(resource.identifier)/\($0)" }
            let text = (qualified + (refreshToken != nil ? ["offline_access"] : [])).joined(separator: " ")
            w.key("scope"); w.string(text); w.comma()
        }
        w.key("expires_in"); w.int(lifetime); w.comma()
        w.key("ext_expires_in"); w.int(lifetime); w.comma()
        if tenant.settings.includeRefreshIn { w.key("refresh_in"); w.int(lifetime / 2); w.comma() }
        w.key("access_token"); w.string(accessToken)
        if let refreshToken { w.comma(); w.key("refresh_token"); w.string(refreshToken) }
        w.raw("}")
        tenant.count("token.issued")
        return .json(200, w, headers: [("Cache-Control", "no-store, no-cache"), ("Pragma", "no-cache")])
    }
}

extension Data {
    /// Base64url without padding (RFC 4648 §5), as PKCE and JWTs use it.
    var base64URLEncoded: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
