/// The interactive parts of the identity platform: device codes, `/authorize` and `/adminconsent`.
///
/// Nobody can click in a browser here, so the emulated administrator answers: device codes wait for an
/// admin-API approval; `/authorize` and `/adminconsent` approve or decline at once according to the
/// tenant's `interactiveConsent` setting and redirect to the client's `redirect_uri`.
extension World {
    mutating func handleDeviceCode(_ request: EmulatorRequest, tenantKey: String, baseURL: String, now: Double) throws(AADError) -> EmulatorResponse {
        guard let t = tenantIndex(tenantKey) else { throw .tenantNotFound(tenantKey) }
        let tenant = tenants[t]
        tenant.count("devicecode")
        let form = request.form
        guard let clientID = form["client_id"], !clientID.isEmpty else { throw .missingParameter("client_id") }
        guard let app = tenant.app(clientID) else { throw .applicationNotFound(clientID, tenant: tenant.id) }
        guard let rawScope = form["scope"], !rawScope.isEmpty else { throw .missingParameter("scope") }
        _ = try ScopeRequest.parse(rawScope)
        let deviceCode = RandomMaterial.token(prefix: "DAQABAAEAAAD", bytes: 96)
        var userCode = RandomMaterial.userCode()
        while deviceCodeByUserCode[userCode] != nil { userCode = RandomMaterial.userCode() }
        let lifetime = tenant.settings.deviceCodeLifetimeSeconds
        let interval = tenant.settings.deviceCodeIntervalSeconds
        deviceCodes[deviceCode] = DeviceCodeRecord(
            deviceCode: deviceCode, userCode: userCode, tenant: t, appID: app.registration.appId, scope: rawScope,
            issuedAt: now, expiresAt: now + Double(lifetime), interval: interval)
        deviceCodeByUserCode[userCode] = deviceCode
        let verification = "\(baseURL)/devicelogin"
        var w = JSONWriter()
        w.raw("{")
        w.key("user_code"); w.string(userCode); w.comma()
        w.key("device_code"); w.string(deviceCode); w.comma()
        w.key("verification_uri"); w.string(verification); w.comma()
        w.key("expires_in"); w.int(lifetime); w.comma()
        w.key("interval"); w.int(interval); w.comma()
        w.key("message")
        w.string("To sign in, use a web browser to open the page \(verification) and enter the code \(userCode) to authenticate.")
        w.raw("}")
        return .json(200, w)
    }

    /// Loopback redirect URIs are accepted on any port (Microsoft ignores the port for loopback), plus the native-client page.
    static func acceptsRedirect(_ uri: String) -> Bool {
        let lower = uri.lowercased()
        return lower.hasPrefix("http://127.0.0.1") || lower.hasPrefix("http://localhost")
            || lower.hasPrefix("http://[::1]") || lower == "https://login.microsoftonline.com/common/oauth2/nativeclient"
    }

    static func appending(_ uri: String, _ params: [(String, String)]) -> String {
        let query = params.map { "\($0.0)=\(FormDecoding.encode($0.1))" }.joined(separator: "&")
        return uri + (uri.contains("?") ? "&" : "?") + query
    }

    mutating func handleAuthorize(_ request: EmulatorRequest, tenantKey: String, now: Double) throws(AADError) -> EmulatorResponse {
        guard let t = tenantIndex(tenantKey) else { throw .tenantNotFound(tenantKey) }
        let tenant = tenants[t]
        tenant.count("authorize")
        let q = request.query
        guard let clientID = q["client_id"], !clientID.isEmpty else { throw .missingParameter("client_id") }
        guard tenant.app(clientID) != nil else { throw .applicationNotFound(clientID, tenant: tenant.id) }
        guard let redirect = q["redirect_uri"], !redirect.isEmpty else { throw .missingParameter("redirect_uri") }
        guard Self.acceptsRedirect(redirect) else { throw .invalidRedirectURI(redirect, appID: clientID) }
        let state = q["state"].map { [("state", $0)] } ?? []
        guard q["response_type"] == "code" else {
            return .redirect(Self.appending(redirect, [("error", "unsupported_response_type"),
                ("error_description", "AADSTS70005: response_type '\(q["response_type"] ?? "")' is not enabled for the client.")] + state))
        }
        let scopeText = q["scope"] ?? ""
        do {
            _ = try ScopeRequest.parse(scopeText)
        } catch {
            return .redirect(Self.appending(redirect, [("error", error.error),
                ("error_description", "AADSTS\(error.code): \(error.message)")] + state))
        }
        if let method = q["code_challenge_method"], method != "S256", method != "plain" {
            return .redirect(Self.appending(redirect, [("error", "invalid_request"),
                ("error_description", "AADSTS501471: Invalid code_challenge_method.")] + state))
        }
        guard tenant.settings.interactiveConsent == .approve else {
            return .redirect(Self.appending(redirect, [("error", "access_denied"), ("error_subcode", "cancel"),
                ("error_description", "AADSTS65004: User declined to consent to access the app.")] + state))
        }
        tenant.apps[clientID.lowercased()]?.registration.consented = true
        let user = q["login_hint"].flatMap { tenant.directory.userIndex(idOrUPN: $0) } ?? firstActiveUser(tenant)
        let code = RandomMaterial.token(prefix: "1.AQ", bytes: 96)
        authorizationCodes[code] = AuthorizationCodeRecord(
            tenant: t, appID: clientID, redirectURI: redirect, scope: scopeText,
            codeChallenge: q["code_challenge"], codeChallengeMethod: q["code_challenge_method"],
            user: user, expiresAt: now + 600)
        return .redirect(Self.appending(redirect, [("code", code)] + state + [("session_state", RandomMaterial.guid())]))
    }

    mutating func handleAdminConsent(_ request: EmulatorRequest, tenantKey: String) throws(AADError) -> EmulatorResponse {
        guard let t = tenantIndex(tenantKey) else { throw .tenantNotFound(tenantKey) }
        let tenant = tenants[t]
        tenant.count("adminconsent")
        let q = request.query
        guard let clientID = q["client_id"], !clientID.isEmpty else { throw .missingParameter("client_id") }
        guard tenant.app(clientID) != nil else { throw .applicationNotFound(clientID, tenant: tenant.id) }
        guard let redirect = q["redirect_uri"], !redirect.isEmpty else { throw .missingParameter("redirect_uri") }
        guard Self.acceptsRedirect(redirect) else { throw .invalidRedirectURI(redirect, appID: clientID) }
        let state = q["state"].map { [("state", $0)] } ?? []
        guard tenant.settings.interactiveConsent == .approve else {
            return .redirect(Self.appending(redirect, [("error", "access_denied"), ("error_subcode", "cancel"),
                ("error_description", "AADSTS65004: User declined to consent to access the app.")] + state))
        }
        tenant.apps[clientID.lowercased()]?.registration.consented = true
        // Admin consent success: admin_consent=True and the tenant id (Microsoft identity platform admin consent docs).
        return .redirect(Self.appending(redirect, [("admin_consent", "True"), ("tenant", tenant.id)] + state))
    }

    func firstActiveUser(_ tenant: EmulatedTenant) -> Int? {
        tenant.directory.users.firstIndex { $0.state == .active }
    }

    // MARK: Administrator actions on device codes

    mutating func decideDeviceCode(userCode: String, approve: Bool, user: String?) throws(EmulatorError) -> PendingDeviceCode {
        let key = userCode.uppercased().replacingOccurrences(of: "-", with: "")
        guard let deviceCode = deviceCodeByUserCode[key], var record = deviceCodes[deviceCode] else {
            throw .notFound("No pending device code '\(userCode)'")
        }
        guard record.status == .pending else { throw .conflict("Device code '\(userCode)' is no longer pending") }
        guard now() < record.expiresAt else { throw .conflict("Device code '\(userCode)' has expired") }
        let tenant = tenants[record.tenant]
        if approve {
            var userIndex = firstActiveUser(tenant)
            if let user {
                guard let i = tenant.directory.userIndex(idOrUPN: user) else { throw .notFound("No user '\(user)'") }
                userIndex = i
            }
            record.status = .approved(user: userIndex)
            tenant.apps[record.appID.lowercased()]?.registration.consented = true
        } else {
            record.status = .declined
        }
        deviceCodes[deviceCode] = record
        return pendingView(record)
    }

    func pendingView(_ r: DeviceCodeRecord) -> PendingDeviceCode {
        PendingDeviceCode(userCode: r.userCode, tenantId: tenants[r.tenant].id, clientId: r.appID, scope: r.scope,
                          expiresAt: EmulatorTime.iso(r.expiresAt))
    }

    func pendingDeviceCodes(tenant: Int?) -> [PendingDeviceCode] {
        let current = now()
        return deviceCodes.values
            .filter { $0.status == .pending && $0.expiresAt > current && (tenant == nil || $0.tenant == tenant) }
            .sorted { $0.issuedAt < $1.issuedAt }
            .map(pendingView)
    }
}
