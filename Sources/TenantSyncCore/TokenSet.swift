import struct Foundation.Date

/// The tokens of one grant, as obtained from the identity platform.
public struct TokenSet: Sendable, Equatable {
    public var accessToken: Secret
    /// Absent for client-credentials grants.
    public var refreshToken: Secret?
    public var scopes: [String]
    public var obtainedAt: Date
    public var expiresAt: Date
    /// Microsoft's `refresh_in` hint turned into a time, if it sent one.
    public var refreshInAt: Date?

    public init(accessToken: Secret, refreshToken: Secret?, scopes: [String], obtainedAt: Date, expiresAt: Date, refreshInAt: Date? = nil) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.scopes = scopes
        self.obtainedAt = obtainedAt
        self.expiresAt = expiresAt
        self.refreshInAt = refreshInAt
    }
}

/// What an operator may read about a grant's tokens: never the tokens themselves.
public struct TokenStatus: Sendable, Equatable, Codable {
    public var grantID: Int64
    public var scopes: [String]
    public var obtainedAt: Date
    public var expiresAt: Date
    public var refreshInAt: Date?
    public var nextRefreshAt: Date
    public var lastRefreshAt: Date?
    public var lastRefreshOutcome: String?
    public var consecutiveFailures: Int
    /// How many token sets have been stored for the grant; bumped on every rotation.
    public var generation: Int

    public init(
        grantID: Int64, scopes: [String], obtainedAt: Date, expiresAt: Date, refreshInAt: Date?, nextRefreshAt: Date,
        lastRefreshAt: Date?, lastRefreshOutcome: String?, consecutiveFailures: Int, generation: Int
    ) {
        self.grantID = grantID
        self.scopes = scopes
        self.obtainedAt = obtainedAt
        self.expiresAt = expiresAt
        self.refreshInAt = refreshInAt
        self.nextRefreshAt = nextRefreshAt
        self.lastRefreshAt = lastRefreshAt
        self.lastRefreshOutcome = lastRefreshOutcome
        self.consecutiveFailures = consecutiveFailures
        self.generation = generation
    }
}
