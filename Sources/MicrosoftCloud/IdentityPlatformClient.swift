import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import TenantSyncCore

/// An OAuth 2.0 client for the Microsoft identity platform (v2.0 endpoints).
///
/// Speaks the grants tenantsync needs: `refresh_token`, `client_credentials`,
/// the device-code flow and the authorization-code flow with PKCE. Requests are
/// form-encoded; answers become a `TokenSet` or an ``IdentityPlatformError``.
/// Tokens and secrets only ever leave the process in request bodies: they are
/// never logged and never part of an error.
public struct IdentityPlatformClient: Sendable {
    public let endpoints: MicrosoftEndpoints
    let httpClient: HTTPClient
    let requestTimeout: Duration
    let logger: Logger
    let now: @Sendable () -> Date

    /// The grant type of the device-code flow (RFC 8628).
    public static let deviceCodeGrantType = "urn:ietf:params:oauth:grant-type:device_code"
    /// The most bytes read from one answer; token answers are a few kilobytes.
    static let maximumResponseBytes = 1 << 20

    /// - Throws: `TenantSyncError` (`invalidConfiguration`) when the authority is plain `http://` on a non-loopback host.
    public init(
        httpClient: HTTPClient, endpoints: MicrosoftEndpoints, requestTimeout: Duration = .seconds(30), logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws {
        try Self.requireSecureTransport(endpoints.authority)
        self.httpClient = httpClient
        self.endpoints = endpoints
        self.requestTimeout = requestTimeout
        self.logger = logger
        self.now = now
    }

    // MARK: Grants

    /// Redeems a refresh token (`grant_type=refresh_token`).
    ///
    /// Microsoft rotates refresh tokens: the returned set carries the new one, which must
    /// be stored before the access token is used. If Microsoft sends none, the old one is kept.
    /// - Parameter claims: a resource's claims challenge this request answers (continuous access evaluation).
    public func refresh(
        tenant: String, client: OAuthClientCredentials, refreshToken: Secret, scopes: [String], claims: ClaimsChallenge? = nil
    ) async throws -> TokenSet {
        var form = try clientForm(client, tenant: tenant)
        form += [("grant_type", "refresh_token"), ("refresh_token", refreshToken.reveal), ("scope", scopes.joined(separator: " "))]
        return try await token(
            tenant: tenant, operation: "refresh_token", form: form, fallbackRefreshToken: refreshToken, scopes: scopes, claims: claims
        )
    }

    /// Gets an app-only token with a client secret (`grant_type=client_credentials`).
    /// - Parameter claims: a resource's claims challenge this request answers (continuous access evaluation).
    public func clientCredentials(
        tenant: String, client: OAuthClientCredentials, scope: String, claims: ClaimsChallenge? = nil
    ) async throws -> TokenSet {
        var form = try clientForm(client, tenant: tenant)
        form += [("grant_type", "client_credentials"), ("scope", scope)]
        return try await token(
            tenant: tenant, operation: "client_credentials", form: form, fallbackRefreshToken: nil, scopes: [scope], claims: claims
        )
    }

    /// Starts the device-code flow: the administrator signs in elsewhere with the returned user code.
    public func startDeviceCode(tenant: String, clientID: String, scopes: [String]) async throws -> DeviceCodeAuthorization {
        let form = [("client_id", clientID), ("scope", scopes.joined(separator: " "))]
        let (status, headers, body) = try await post(endpoints.deviceCodeURL(tenant: tenant), form: form, operation: "devicecode", tenant: tenant)
        guard status == 200 else { throw Self.error(operation: "devicecode", status: status, headers: headers, body: body) }
        guard let answer = try? JSONDecoder().decode(DeviceCodeResponse.self, from: body),
              let expires = answer.expiresIn.seconds,
              let uri = answer.verificationURI ?? answer.verificationURL
        else {
            throw IdentityPlatformError(operation: "devicecode", httpStatus: status, transport: .malformedResponse)
        }
        return DeviceCodeAuthorization(
            deviceCode: Secret(answer.deviceCode), userCode: answer.userCode, verificationURI: uri, message: answer.message,
            expiresIn: .seconds(expires), interval: .seconds(answer.interval?.seconds ?? 5), scopes: scopes
        )
    }

    /// Polls the token endpoint until the administrator completes (or refuses) the device-code sign-in.
    ///
    /// Waits `interval` between polls and five seconds more after every `slow_down`
    /// (RFC 8628 §3.5); gives up with `expired_token` once the device code expires.
    /// Transient answers (HTTP 429/5xx) are retried at the poll interval while the code lives.
    public func pollDeviceCode<C: Clock<Duration>>(
        tenant: String, client: OAuthClientCredentials, authorization: DeviceCodeAuthorization, clock: C
    ) async throws -> TokenSet {
        var interval = authorization.interval
        let deadline = clock.now.advanced(by: authorization.expiresIn)
        while true {
            try await clock.sleep(for: interval)
            guard clock.now < deadline else {
                throw IdentityPlatformError(operation: "device_code", error: "expired_token")
            }
            // Per poll: a certificate client's assertion must not be sent twice.
            var form = try clientForm(client, tenant: tenant)
            form += [("grant_type", Self.deviceCodeGrantType), ("device_code", authorization.deviceCode.reveal)]
            do {
                return try await token(
                    tenant: tenant, operation: "device_code", form: form, fallbackRefreshToken: nil, scopes: authorization.scopes
                )
            } catch let error as IdentityPlatformError {
                switch error.error {
                case "authorization_pending":
                    continue
                case "slow_down":
                    interval += .seconds(5)
                default:
                    guard TokenErrorClassifier.classify(error.failure) == .transient else { throw error }
                    if let retryAfter = error.retryAfter, retryAfter > interval { try await clock.sleep(for: retryAfter - interval) }
                }
            }
        }
    }

    /// The polling loop with the continuous clock.
    public func pollDeviceCode(tenant: String, client: OAuthClientCredentials, authorization: DeviceCodeAuthorization) async throws -> TokenSet {
        try await pollDeviceCode(tenant: tenant, client: client, authorization: authorization, clock: ContinuousClock())
    }

    /// The URL to send an administrator to for the authorization-code flow with PKCE.
    ///
    /// - Parameters:
    ///   - redirectURI: where Microsoft sends the code (the daemon's loopback listener).
    ///   - state: an unguessable value the redirect must echo.
    ///   - prompt: e.g. `consent` or `select_account`; omitted when `nil`.
    public func authorizationURL(
        tenant: String, clientID: String, redirectURI: String, scopes: [String], state: String, pkce: PKCE, prompt: String? = nil
    ) -> String {
        Self.authorizationURL(
            endpoints: endpoints, tenant: tenant, clientID: clientID, redirectURI: redirectURI, scopes: scopes, state: state,
            pkce: pkce, prompt: prompt
        )
    }

    /// The authorize URL for the given endpoints; see the instance method.
    public static func authorizationURL(
        endpoints: MicrosoftEndpoints, tenant: String, clientID: String, redirectURI: String, scopes: [String], state: String,
        pkce: PKCE, prompt: String?
    ) -> String {
        var query: [(String, String)] = [
            ("client_id", clientID), ("response_type", "code"), ("redirect_uri", redirectURI), ("response_mode", "query"),
            ("scope", scopes.joined(separator: " ")), ("state", state),
            ("code_challenge", pkce.challenge), ("code_challenge_method", pkce.method),
        ]
        if let prompt { query.append(("prompt", prompt)) }
        return endpoints.authorizeURL(tenant: tenant) + "?" + FormEncoding.encode(query)
    }

    /// Redeems an authorization code with its PKCE verifier (`grant_type=authorization_code`).
    public func redeemAuthorizationCode(
        tenant: String, client: OAuthClientCredentials, code: Secret, redirectURI: String, pkce: PKCE, scopes: [String]
    ) async throws -> TokenSet {
        var form = try clientForm(client, tenant: tenant)
        form += [
            ("grant_type", "authorization_code"), ("code", code.reveal), ("redirect_uri", redirectURI),
            ("code_verifier", pkce.verifier.reveal), ("scope", scopes.joined(separator: " ")),
        ]
        return try await token(tenant: tenant, operation: "authorization_code", form: form, fallbackRefreshToken: nil, scopes: scopes)
    }

    // MARK: HTTP

    /// The client's own fields; a certificate client signs a new assertion for this tenant's token endpoint.
    private func clientForm(_ client: OAuthClientCredentials, tenant: String) throws -> [(String, String)] {
        try client.formPairs(audience: endpoints.tokenURL(tenant: tenant), now: now())
    }

    private func token(
        tenant: String, operation: String, form: [(String, String)], fallbackRefreshToken: Secret?, scopes: [String],
        claims: ClaimsChallenge? = nil
    ) async throws -> TokenSet {
        // Every token request declares continuous access evaluation (cp1), with a challenge's claims when it answers one.
        let form = form + [("claims", ClientCapabilities.claimsParameter(answering: claims))]
        let sentAt = now()
        let (status, headers, body) = try await post(endpoints.tokenURL(tenant: tenant), form: form, operation: operation, tenant: tenant)
        guard status == 200 else { throw Self.error(operation: operation, status: status, headers: headers, body: body) }
        // The request's start is the safe origin for expiry: the token may have been minted any time after it.
        guard let answer = try? JSONDecoder().decode(TokenResponse.self, from: body),
              let tokens = answer.tokenSet(obtainedAt: sentAt, fallbackRefreshToken: fallbackRefreshToken, requestedScopes: scopes)
        else {
            throw IdentityPlatformError(operation: operation, httpStatus: status, transport: .malformedResponse)
        }
        return tokens
    }

    private func post(_ url: String, form: [(String, String)], operation: String, tenant: String) async throws -> (Int, [(String, String)], Data) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode(form)))
        var metadata: Logger.Metadata = ["oauth.operation": "\(operation)", "tenant.id": "\(tenant)"]
        logger.debug("Token request sent", metadata: metadata)
        do {
            let response = try await httpClient.execute(request, timeout: .init(requestTimeout))
            let bytes = try await response.body.collect(upTo: Self.maximumResponseBytes)
            metadata["http.status"] = "\(response.status.code)"
            logger.debug("Token request answered", metadata: metadata)
            return (Int(response.status.code), response.headers.map { ($0.name, $0.value) }, Data(bytes.readableBytesView))
        } catch {
            if Task.isCancelled || error is CancellationError { throw CancellationError() }
            let transport = Self.transport(of: error)
            metadata["oauth.transport"] = "\(transport.rawValue)"
            logger.debug("Token request failed without an answer", metadata: metadata)
            throw IdentityPlatformError(operation: operation, transport: transport)
        }
    }

    static func transport(of error: any Error) -> TokenFailure.Transport {
        if error is NIOTooManyBytesError { return .malformedResponse }
        if let error = error as? HTTPClientError {
            let timeouts: [HTTPClientError] = [
                .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout, .tlsHandshakeTimeout, .getConnectionFromPoolTimeout,
            ]
            if timeouts.contains(error) { return .timeout }
        }
        return .connectionFailed
    }

    static func error(operation: String, status: Int, headers: [(String, String)], body: Data) -> IdentityPlatformError {
        let answer = try? JSONDecoder().decode(ErrorResponse.self, from: body)
        let retryAfter = headers.first { $0.0.lowercased() == "retry-after" }.flatMap { retryAfterDuration($0.1) }
        let location = (300..<400).contains(status)
            ? headers.first { $0.0.lowercased() == "location" }.map { GraphClient.withoutQuery($0.1) } : nil
        return IdentityPlatformError(
            operation: operation, httpStatus: status, error: answer?.error, errorDescription: answer?.errorDescription,
            errorCodes: answer?.errorCodes ?? [], suberror: answer?.suberror, traceID: answer?.traceID,
            correlationID: answer?.correlationID, retryAfter: retryAfter, redirectLocation: location
        )
    }

    /// `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3).
    static func retryAfterDuration(_ value: String, now: Date = Date()) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed) { return seconds >= 0 ? .seconds(seconds) : nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return .seconds(max(0, Int(date.timeIntervalSince(now).rounded(.up))))
    }

    static func requireSecureTransport(_ url: String) throws {
        let lower = url.lowercased()
        if lower.hasPrefix("https://") { return }
        if lower.hasPrefix("http://") {
            let rest = lower.dropFirst("http://".count)
            let hostPort = rest.prefix { $0 != "/" }
            let host: Substring
            if hostPort.hasPrefix("[") {
                host = hostPort.dropFirst().prefix { $0 != "]" }
            } else {
                host = hostPort.prefix { $0 != ":" }
            }
            if host == "127.0.0.1" || host == "::1" || host == "localhost" { return }
        }
        throw TenantSyncError(
            .invalidConfiguration,
            "The Microsoft authority must be an https:// URL; plain http:// is accepted only for a loopback emulator.",
            context: ["microsoft.authority": url]
        )
    }
}
