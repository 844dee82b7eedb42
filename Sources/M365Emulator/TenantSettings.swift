/// Per-tenant behaviour switches; every field has Microsoft's behaviour as its default.
public struct TenantSettings: Sendable, Codable, Equatable {
    /// Fixed access-token lifetime in seconds; nil draws 3600...5400 s at random, like Microsoft (60–90 min).
    public var accessTokenLifetimeSeconds: Int?
    /// Add `refresh_in` (half the lifetime) to token responses, as Microsoft does for long-lived tokens.
    public var includeRefreshIn: Bool
    /// Strict rotation: a refresh token works once. Microsoft's default (false) keeps the old one usable.
    public var strictRefreshTokens: Bool
    /// With `strictRefreshTokens`: a redeemed refresh token may be redeemed again until a refresh token issued
    /// from it has been used. A client that died before storing an answer can then retry with the token it
    /// still holds, while one that goes back to an older token after using a newer one is still refused
    /// (what rotation with reuse detection guards against). False: a refresh token works exactly once.
    /// Both strict modes are stricter than Microsoft on purpose, to catch a client that loses or reuses a
    /// rotated token: "The Microsoft identity platform doesn't revoke old refresh tokens when used to fetch
    /// new access tokens" (https://learn.microsoft.com/entra/identity-platform/refresh-tokens).
    public var strictRefreshTokenRetry: Bool
    /// Refresh tokens unused for this long fail with AADSTS700082 (Microsoft: 90 days).
    public var refreshTokenInactivitySeconds: Int
    /// What an interactive sign-in (authorize, adminconsent) does: `approve` or `decline`.
    public var interactiveConsent: InteractiveConsent
    /// Device-code polling interval (`interval`, seconds); polling faster answers `slow_down`.
    public var deviceCodeIntervalSeconds: Int
    /// Device-code lifetime (`expires_in`, seconds; Microsoft: 900).
    public var deviceCodeLifetimeSeconds: Int
    /// Graph throttling on or off for this tenant.
    public var throttlingEnabled: Bool
    /// Resource units per 10 s per app; nil uses Microsoft's size tiers (S 3,500 / M 5,000 / L 8,000).
    public var resourceUnitsPer10Seconds: Int?
    /// Age after which a delta token is refused with 410 Gone (Microsoft: 7 days for directory objects).
    public var deltaTokenMaxAgeSeconds: Int
    /// Per-request latency of this tenant's requests in milliseconds; nil uses the emulator's `latency`.
    public var latencyMilliseconds: Int?
    /// At most this many `members@delta` entries on one `groups/delta` page; a larger membership continues on
    /// the next page with the same group object. Microsoft splits large groups but publishes no number.
    public var deltaMembersPerPage: Int

    public init(accessTokenLifetimeSeconds: Int? = nil, includeRefreshIn: Bool = false,
                strictRefreshTokens: Bool = false, strictRefreshTokenRetry: Bool = false,
                refreshTokenInactivitySeconds: Int = 90 * 86_400, interactiveConsent: InteractiveConsent = .approve, deviceCodeIntervalSeconds: Int = 5,
                deviceCodeLifetimeSeconds: Int = 900, throttlingEnabled: Bool = true,
                resourceUnitsPer10Seconds: Int? = nil, deltaTokenMaxAgeSeconds: Int = 7 * 86_400,
                latencyMilliseconds: Int? = nil, deltaMembersPerPage: Int = 1_000) {
        self.accessTokenLifetimeSeconds = accessTokenLifetimeSeconds
        self.includeRefreshIn = includeRefreshIn
        self.strictRefreshTokens = strictRefreshTokens
        self.strictRefreshTokenRetry = strictRefreshTokenRetry
        self.refreshTokenInactivitySeconds = refreshTokenInactivitySeconds
        self.interactiveConsent = interactiveConsent
        self.deviceCodeIntervalSeconds = deviceCodeIntervalSeconds
        self.deviceCodeLifetimeSeconds = deviceCodeLifetimeSeconds
        self.throttlingEnabled = throttlingEnabled
        self.resourceUnitsPer10Seconds = resourceUnitsPer10Seconds
        self.deltaTokenMaxAgeSeconds = deltaTokenMaxAgeSeconds
        self.latencyMilliseconds = latencyMilliseconds
        self.deltaMembersPerPage = deltaMembersPerPage
    }

    /// How the emulated administrator answers an interactive consent prompt.
    public enum InteractiveConsent: String, Sendable, Codable {
        case approve
        case decline
    }
}

/// A partial update of `TenantSettings` (admin API `PATCH /_emulator/tenants/{t}/settings`).
public struct TenantSettingsPatch: Sendable, Codable, Equatable {
    public var accessTokenLifetimeSeconds: Int?
    /// Set true to return to the randomized 60–90 minute lifetime.
    public var randomAccessTokenLifetime: Bool?
    public var includeRefreshIn: Bool?
    public var strictRefreshTokens: Bool?
    public var strictRefreshTokenRetry: Bool?
    public var refreshTokenInactivitySeconds: Int?
    public var interactiveConsent: TenantSettings.InteractiveConsent?
    public var deviceCodeIntervalSeconds: Int?
    public var deviceCodeLifetimeSeconds: Int?
    public var throttlingEnabled: Bool?
    public var resourceUnitsPer10Seconds: Int?
    public var deltaTokenMaxAgeSeconds: Int?
    /// Per-request latency in milliseconds (0 for none).
    public var latencyMilliseconds: Int?
    /// Set true to return to the emulator's default latency.
    public var defaultLatency: Bool?
    public var deltaMembersPerPage: Int?

    public init(accessTokenLifetimeSeconds: Int? = nil, randomAccessTokenLifetime: Bool? = nil,
                includeRefreshIn: Bool? = nil, strictRefreshTokens: Bool? = nil, strictRefreshTokenRetry: Bool? = nil,
                refreshTokenInactivitySeconds: Int? = nil, interactiveConsent: TenantSettings.InteractiveConsent? = nil,
                deviceCodeIntervalSeconds: Int? = nil, deviceCodeLifetimeSeconds: Int? = nil,
                throttlingEnabled: Bool? = nil, resourceUnitsPer10Seconds: Int? = nil,
                deltaTokenMaxAgeSeconds: Int? = nil, latencyMilliseconds: Int? = nil, defaultLatency: Bool? = nil,
                deltaMembersPerPage: Int? = nil) {
        self.latencyMilliseconds = latencyMilliseconds
        self.defaultLatency = defaultLatency
        self.deltaMembersPerPage = deltaMembersPerPage
        self.accessTokenLifetimeSeconds = accessTokenLifetimeSeconds
        self.randomAccessTokenLifetime = randomAccessTokenLifetime
        self.includeRefreshIn = includeRefreshIn
        self.strictRefreshTokens = strictRefreshTokens
        self.strictRefreshTokenRetry = strictRefreshTokenRetry
        self.refreshTokenInactivitySeconds = refreshTokenInactivitySeconds
        self.interactiveConsent = interactiveConsent
        self.deviceCodeIntervalSeconds = deviceCodeIntervalSeconds
        self.deviceCodeLifetimeSeconds = deviceCodeLifetimeSeconds
        self.throttlingEnabled = throttlingEnabled
        self.resourceUnitsPer10Seconds = resourceUnitsPer10Seconds
        self.deltaTokenMaxAgeSeconds = deltaTokenMaxAgeSeconds
    }

    func apply(to s: inout TenantSettings) throws(EmulatorError) {
        func positive(_ v: Int?, _ name: String) throws(EmulatorError) {
            if let v, v <= 0 { throw .badRequest("\(name) must be positive") }
        }
        try positive(accessTokenLifetimeSeconds, "accessTokenLifetimeSeconds")
        try positive(refreshTokenInactivitySeconds, "refreshTokenInactivitySeconds")
        try positive(deviceCodeLifetimeSeconds, "deviceCodeLifetimeSeconds")
        try positive(resourceUnitsPer10Seconds, "resourceUnitsPer10Seconds")
        try positive(deltaTokenMaxAgeSeconds, "deltaTokenMaxAgeSeconds")
        try positive(deltaMembersPerPage, "deltaMembersPerPage")
        if let v = deviceCodeIntervalSeconds, v < 0 { throw .badRequest("deviceCodeIntervalSeconds must not be negative") }
        if let v = latencyMilliseconds, !(0...600_000).contains(v) { throw .badRequest("latencyMilliseconds must be 0...600000") }
        if let v = accessTokenLifetimeSeconds { s.accessTokenLifetimeSeconds = v }
        if randomAccessTokenLifetime == true { s.accessTokenLifetimeSeconds = nil }
        if let v = includeRefreshIn { s.includeRefreshIn = v }
        if let v = strictRefreshTokens { s.strictRefreshTokens = v }
        if let v = strictRefreshTokenRetry { s.strictRefreshTokenRetry = v }
        if let v = refreshTokenInactivitySeconds { s.refreshTokenInactivitySeconds = v }
        if let v = interactiveConsent { s.interactiveConsent = v }
        if let v = deviceCodeIntervalSeconds { s.deviceCodeIntervalSeconds = v }
        if let v = deviceCodeLifetimeSeconds { s.deviceCodeLifetimeSeconds = v }
        if let v = throttlingEnabled { s.throttlingEnabled = v }
        if let v = resourceUnitsPer10Seconds { s.resourceUnitsPer10Seconds = v }
        if let v = deltaTokenMaxAgeSeconds { s.deltaTokenMaxAgeSeconds = v }
        if let v = latencyMilliseconds { s.latencyMilliseconds = v }
        if defaultLatency == true { s.latencyMilliseconds = nil }
        if let v = deltaMembersPerPage { s.deltaMembersPerPage = v }
    }
}
