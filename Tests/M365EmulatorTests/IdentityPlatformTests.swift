import Crypto
import Foundation
import M365Emulator
import Testing

/// Identity platform behaviour, each test citing the Microsoft identity platform documentation it follows.
@Suite(.serialized)
struct IdentityPlatformTests {
    // "Microsoft identity platform and the OAuth 2.0 client credentials flow": the success response has
    // token_type Bearer, expires_in, ext_expires_in and access_token, and no refresh token.
    @Test func clientCredentialsReturnsBearerTokenWithSixtyToNinetyMinuteLifetime() async throws {
        try await Harness.run { h in
            let answer = try await h.form("/\(h.firstTenant.id)/oauth2/v2.0/token", [
                "grant_type": "client_credentials", "client_id": h.clientID, "client_secret": h.clientSecret,
                "scope": "https://graph.microsoft.com/.default",
            ])
            #expect(answer.status == 200)
            let json = answer.json
            #expect(json["token_type"] as? String == "Bearer")
            let expires = try #require(json["expires_in"] as? Int)
            #expect((3600...5400).contains(expires), "expires_in \(expires) outside 60–90 minutes")
            #expect(json["ext_expires_in"] as? Int == expires)
            #expect((json["access_token"] as? String)?.isEmpty == false)
            #expect(json["refresh_token"] == nil, "client credentials must not yield a refresh token")
        }
    }

    // AADSTS error responses: error, error_description "AADSTSnnnn: ..." with Trace ID / Correlation ID /
    // Timestamp lines, error_codes, timestamp, trace_id, correlation_id, error_uri. AADSTS90002 = tenant not found.
    @Test func unknownTenantAnswersAADSTS90002InMicrosoftsErrorShape() async throws {
        try await Harness.run { h in
            let answer = try await h.form("/nosuch.onmicrosoft.com/oauth2/v2.0/token", [
                "grant_type": "client_credentials", "client_id": h.clientID, "client_secret": h.clientSecret,
                "scope": "https://graph.microsoft.com/.default",
            ], headers: [("client-request-id", "11111111-2222-3333-4444-555555555555")])
            #expect(answer.status == 400)
            let json = answer.json
            #expect(json["error"] as? String == "invalid_request")
            let description = try #require(json["error_description"] as? String)
            #expect(description.hasPrefix("AADSTS90002: Tenant 'nosuch.onmicrosoft.com' not found."))
            #expect(description.contains("\r\nTrace ID: "))
            #expect(description.contains("\r\nCorrelation ID: 11111111-2222-3333-4444-555555555555"))
            #expect(description.contains("\r\nTimestamp: "))
            #expect(json["error_codes"] as? [Int] == [90002])
            #expect(json["timestamp"] is String)
            #expect((json["trace_id"] as? String)?.count == 36)
            #expect(json["correlation_id"] as? String == "11111111-2222-3333-4444-555555555555")
            #expect((json["error_uri"] as? String)?.hasSuffix("error?code=90002") == true)
        }
    }

    @Test func tenantIsAcceptedByDomainAsWellAsByGUID() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant
            let byDomain = try await h.appToken(tenant: tenant.domain)
            let byID = try await h.appToken(tenant: tenant.id)
            #expect(!byDomain.isEmpty)
            #expect(!byID.isEmpty)
        }
    }

    // invalid_client is answered with HTTP 401: AADSTS7000215 wrong secret, AADSTS7000222 expired secret.
    @Test func wrongSecretIs7000215AndExpiredSecretIs7000222() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            let wrong = try await h.form("/\(tenant)/oauth2/v2.0/token", [
                "grant_type": "client_credentials", "client_id": h.clientID, "client_secret": "nope",
                "scope": "https://graph.microsoft.com/.default",
            ])
            #expect(wrong.status == 401)
            #expect(wrong.json["error"] as? String == "invalid_client")
            #expect(wrong.json["error_codes"] as? [Int] == [7000215])
            #expect(!wrong.text.contains(h.clientSecret), "the secret must never be echoed")

            let expire = try await h.admin(.POST, "/tenants/\(tenant)/apps/\(h.clientID)/expire-secret")
            #expect(expire.status == 204)
            let expired = try await h.form("/\(tenant)/oauth2/v2.0/token", [
                "grant_type": "client_credentials", "client_id": h.clientID, "client_secret": h.clientSecret,
                "scope": "https://graph.microsoft.com/.default",
            ])
            #expect(expired.status == 401)
            #expect(expired.json["error"] as? String == "invalid_client")
            #expect((expired.json["error_description"] as? String)?.hasPrefix("AADSTS7000222:") == true)
        }
    }

    // Client credentials require the scope `{resource}/.default` (AADSTS1002012); unknown apps are AADSTS700016.
    @Test func clientCredentialsRejectsNonDefaultScopeAndUnknownApp() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            let scope = try await h.form("/\(tenant)/oauth2/v2.0/token", [
                "grant_type": "client_credentials", "client_id": h.clientID, "client_secret": h.clientSecret,
                "scope": "User.Read.All",
            ])
            #expect(scope.status == 400)
            #expect(scope.json["error"] as? String == "invalid_scope")
            #expect(scope.json["error_codes"] as? [Int] == [1002012])
            let unknown = try await h.form("/\(tenant)/oauth2/v2.0/token", [
                "grant_type": "client_credentials", "client_id": "00000000-0000-0000-0000-000000000001",
                "client_secret": "x", "scope": "https://graph.microsoft.com/.default",
            ])
            #expect(unknown.json["error"] as? String == "unauthorized_client")
            #expect(unknown.json["error_codes"] as? [Int] == [700016])
            let missing = try await h.form("/\(tenant)/oauth2/v2.0/token", ["client_id": h.clientID])
            #expect(missing.json["error_codes"] as? [Int] == [900144])
        }
    }

    // Device code flow (RFC 8628, Microsoft identity platform device authorization grant):
    // authorization_pending while the user has not entered the code, slow_down when polling faster than
    // `interval`, tokens after approval, authorization_declined, expired_token after expires_in (900 s).
    @Test func deviceCodeFlowPendingSlowDownApprovalDeclineAndExpiry() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            func start() async throws -> [String: Any] {
                let answer = try await h.form("/\(tenant)/oauth2/v2.0/devicecode", [
                    "client_id": h.clientID, "scope": "https://graph.microsoft.com/.default offline_access",
                ])
                #expect(answer.status == 200)
                return answer.json
            }
            func poll(_ code: String) async throws -> Answer {
                try await h.form("/\(tenant)/oauth2/v2.0/token", [
                    "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": h.clientID,
                    "device_code": code,
                ])
            }
            let issued = try await start()
            #expect(issued["interval"] as? Int == 5)
            #expect(issued["expires_in"] as? Int == 900)
            #expect((issued["message"] as? String)?.contains(issued["user_code"] as? String ?? "?") == true)
            let deviceCode = try #require(issued["device_code"] as? String)

            let first = try await poll(deviceCode)
            #expect(first.status == 400)
            #expect(first.json["error"] as? String == "authorization_pending")
            let fast = try await poll(deviceCode)
            #expect(fast.json["error"] as? String == "slow_down")

            let approved = try await h.admin(.POST, "/tenants/\(tenant)/device-codes/approve-next")
            #expect(approved.status == 200)
            #expect(approved.json["userCode"] as? String == issued["user_code"] as? String)
            try h.emulator.advanceClock(by: 6)
            let tokens = try await poll(deviceCode)
            #expect(tokens.status == 200, "\(tokens.text)")
            #expect(tokens.json["refresh_token"] is String)
            #expect((tokens.json["scope"] as? String)?.contains("offline_access") == true)

            let second = try #require(try await start()["device_code"] as? String)
            _ = try await h.emulator.decideNextDeviceCode(tenant: tenant, approve: false)
            let declined = try await poll(second)
            #expect(declined.json["error"] as? String == "authorization_declined")

            let third = try #require(try await start()["device_code"] as? String)
            try h.emulator.advanceClock(by: 901)
            let expired = try await poll(third)
            #expect(expired.json["error"] as? String == "expired_token")
            #expect(expired.json["error_codes"] as? [Int] == [70019])
        }
    }

    // Authorization code flow with PKCE (RFC 7636 S256): /authorize redirects to redirect_uri with code and
    // state; the code is redeemed once (AADSTS54005 on reuse) and only with the matching code_verifier.
    @Test func authorizationCodeWithPKCERedirectsAndRedeemsOnce() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-more-entropy-here"
            let challenge = Data(SHA256.hash(data: Data(verifier.utf8))).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            let redirect = "http://127.0.0.1:45678/callback"
            func authorize() async throws -> [String: String] {
                let url = "/\(tenant)/oauth2/v2.0/authorize?client_id=\(h.clientID)&response_type=code"
                    + "&redirect_uri=\(h.encode(redirect))&scope=\(h.encode("https://graph.microsoft.com/.default offline_access"))"
                    + "&state=xyz123&code_challenge=\(challenge)&code_challenge_method=S256"
                let answer = try await h.send(.GET, url)
                #expect(answer.status == 302)
                #expect(answer.header("Location")?.hasPrefix(redirect) == true)
                return queryItems(answer.header("Location"))
            }
            let params = try await authorize()
            #expect(params["state"] == "xyz123")
            let code = try #require(params["code"])
            let redeem = ["grant_type": "authorization_code", "client_id": h.clientID, "code": code,
                          "redirect_uri": redirect, "code_verifier": verifier]
            let tokens = try await h.form("/\(tenant)/oauth2/v2.0/token", redeem)
            #expect(tokens.status == 200, "\(tokens.text)")
            #expect(tokens.json["refresh_token"] is String)
            let again = try await h.form("/\(tenant)/oauth2/v2.0/token", redeem)
            #expect(again.json["error"] as? String == "invalid_grant")
            #expect(again.json["error_codes"] as? [Int] == [54005])

            let other = try #require(try await authorize()["code"])
            var wrong = redeem
            wrong["code"] = other
            wrong["code_verifier"] = "not-the-verifier-not-the-verifier-not-the-verifier"
            let mismatch = try await h.form("/\(tenant)/oauth2/v2.0/token", wrong)
            #expect(mismatch.json["error"] as? String == "invalid_grant")
            #expect(mismatch.json["error_codes"] as? [Int] == [501481])

            // The emulated admin declines: the redirect carries error=access_denied (AADSTS65004).
            try h.emulator.updateSettings(tenant: tenant, TenantSettingsPatch(interactiveConsent: .decline))
            let declined = try await authorize()
            #expect(declined["error"] == "access_denied")
            #expect(declined["error_description"]?.hasPrefix("AADSTS65004") == true)
            #expect(declined["state"] == "xyz123")
        }
    }

    // Admin consent endpoint: success redirects with admin_consent=True and the tenant id.
    @Test func adminConsentRedirectsWithTenantAndGrantsConsent() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant
            try h.emulator.setConsent(tenant: tenant.id, appId: h.clientID, granted: false)
            let noConsent = try await h.appToken(tenant: tenant.id)
            // Without consent the app token carries no roles: Graph refuses with 403.
            #expect(try await h.graph("/users", token: noConsent).status == 403)

            let answer = try await h.send(.GET, "/\(tenant.domain)/adminconsent?client_id=\(h.clientID)&redirect_uri=\(h.encode("http://localhost:9999/consent"))&state=s1")
            #expect(answer.status == 302)
            let params = queryItems(answer.header("Location"))
            #expect(params["admin_consent"] == "True")
            #expect(params["tenant"] == tenant.id)
            #expect(params["state"] == "s1")
            let token = try await h.appToken(tenant: tenant.id)
            #expect(try await h.graph("/users", token: token).status == 200)
        }
    }

    private func deviceTokens(_ h: Harness, tenant: String) async throws -> [String: Any] {
        try h.emulator.updateSettings(tenant: tenant, TenantSettingsPatch(deviceCodeIntervalSeconds: 0))
        let issued = try await h.form("/\(tenant)/oauth2/v2.0/devicecode", [
            "client_id": h.clientID, "scope": "https://graph.microsoft.com/.default offline_access",
        ]).json
        _ = try await h.emulator.decideNextDeviceCode(tenant: tenant)
        let tokens = try await h.form("/\(tenant)/oauth2/v2.0/token", [
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": h.clientID,
            "device_code": issued["device_code"] as? String ?? "",
        ])
        #expect(tokens.status == 200, "\(tokens.text)")
        return tokens.json
    }

    private func refresh(_ h: Harness, tenant: String, _ token: String) async throws -> Answer {
        try await h.form("/\(tenant)/oauth2/v2.0/token", [
            "grant_type": "refresh_token", "client_id": h.clientID, "refresh_token": token,
            "scope": "https://graph.microsoft.com/.default offline_access",
        ])
    }

    // Refresh tokens rotate: each redemption returns a new one. Microsoft keeps the old one usable;
    // a tenant in strict mode rejects reuse with invalid_grant.
    @Test func refreshTokensRotateAndStrictModeRejectsReuse() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            let first = try #require(try await deviceTokens(h, tenant: tenant)["refresh_token"] as? String)
            let rotated = try await refresh(h, tenant: tenant, first)
            #expect(rotated.status == 200)
            let second = try #require(rotated.json["refresh_token"] as? String)
            #expect(second != first)
            #expect(try await refresh(h, tenant: tenant, first).status == 200, "default: the old refresh token stays usable")

            try h.emulator.updateSettings(tenant: tenant, TenantSettingsPatch(strictRefreshTokens: true))
            let third = try #require(try await refresh(h, tenant: tenant, second).json["refresh_token"] as? String)
            let reuse = try await refresh(h, tenant: tenant, second)
            #expect(reuse.status == 400)
            #expect(reuse.json["error"] as? String == "invalid_grant")
            #expect(try await refresh(h, tenant: tenant, third).status == 200)
        }
    }

    // Strict retry mode: a client that never stored an answer may redeem its token again, until a token
    // issued from it was used; going back to it after that is a reuse, refused and counted.
    @Test func strictRetryModeAllowsARetryUntilTheSuccessorIsUsed() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            try h.emulator.updateSettings(tenant: tenant, TenantSettingsPatch(strictRefreshTokens: true, strictRefreshTokenRetry: true))
            let first = try #require(try await deviceTokens(h, tenant: tenant)["refresh_token"] as? String)
            let lost = try await refresh(h, tenant: tenant, first)
            #expect(lost.status == 200)
            let retried = try await refresh(h, tenant: tenant, first)
            #expect(retried.status == 200, "a retry before any successor was used must work")
            let second = try #require(retried.json["refresh_token"] as? String)
            #expect(second != lost.json["refresh_token"] as? String)
            #expect(try await refresh(h, tenant: tenant, second).status == 200)
            let reuse = try await refresh(h, tenant: tenant, first)
            #expect(reuse.status == 400, "the successor was used: the old token is consumed")
            #expect(reuse.json["error_codes"] as? [Int] == [70008])
            let reuseOfSecond = try await refresh(h, tenant: tenant, second)
            #expect(reuseOfSecond.status == 200, "its own successor is still unused")
            let counters = try h.emulator.counters(tenant: tenant)
            #expect(counters["token.refresh_token.reused"] == 1)
            #expect(counters["token.refresh_token.retried"] == 2)
        }
    }

    // Revoked grants answer invalid_grant with the AADSTS code chosen: 70008, 700082 or 50173.
    @Test(arguments: [70008, 700082, 50173])
    func revokedRefreshTokenAnswersInvalidGrantWithChosenCode(code: Int) async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            let token = try #require(try await deviceTokens(h, tenant: tenant)["refresh_token"] as? String)
            let revoked = try await h.admin(.POST, "/tenants/\(tenant)/revoke-refresh-tokens", json: "{\"code\": \(code)}")
            #expect(revoked.json["revoked"] as? Int == 1)
            let answer = try await refresh(h, tenant: tenant, token)
            #expect(answer.status == 400)
            #expect(answer.json["error"] as? String == "invalid_grant")
            #expect(answer.json["error_codes"] as? [Int] == [code])
            #expect((answer.json["error_description"] as? String)?.hasPrefix("AADSTS\(code):") == true)
            #expect(answer.json["suberror"] as? String == "bad_token")
        }
    }

    // Token lifetime settable short for tests; refresh_in (half the lifetime) when enabled; expired tokens are
    // refused by Graph with 401 InvalidAuthenticationToken.
    @Test func shortTokenLifetimeExpiresOnGraph() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            let settings = try await h.admin(.PATCH, "/tenants/\(tenant)/settings",
                                             json: "{\"accessTokenLifetimeSeconds\": 5, \"includeRefreshIn\": true}")
            #expect(settings.status == 200)
            let answer = try await h.form("/\(tenant)/oauth2/v2.0/token", [
                "grant_type": "client_credentials", "client_id": h.clientID, "client_secret": h.clientSecret,
                "scope": "https://graph.microsoft.com/.default",
            ])
            #expect(answer.json["expires_in"] as? Int == 5)
            #expect(answer.json["refresh_in"] as? Int == 2)
            let token = try #require(answer.json["access_token"] as? String)
            #expect(try await h.graph("/organization", token: token).status == 200)
            try h.emulator.advanceClock(by: 6)
            let expired = try await h.graph("/organization", token: token)
            #expect(expired.status == 401)
            let error = expired.json["error"] as? [String: Any]
            #expect(error?["code"] as? String == "InvalidAuthenticationToken")
        }
    }

    // Audience follows the requested scope: an Exchange Online token is refused by Graph (invalid audience)
    // and accepted by EWS; the emulator's own URL stands for Graph.
    @Test func audienceFollowsTheRequestedResource() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            let outlook = try await h.appToken(tenant: tenant, scope: "https://outlook.office365.com/.default")
            let refused = try await h.graph("/users", token: outlook)
            #expect(refused.status == 401)
            #expect(((refused.json["error"] as? [String: Any])?["message"] as? String)?.contains("audience") == true)
            let ews = try await h.send(.POST, "/EWS/Exchange.asmx", headers: [("Authorization", "Bearer \(outlook)")], body: Array("<x/>".utf8))
            #expect(ews.status == 200)
            let graphViaEmulatorURL = try await h.appToken(tenant: tenant, scope: "\(h.base)/.default")
            #expect(try await h.graph("/users", token: graphViaEmulatorURL).status == 200)
            #expect(try await h.send(.POST, "/EWS/Exchange.asmx", headers: [("Authorization", "Bearer \(graphViaEmulatorURL)")]).status == 401)
        }
    }
}
