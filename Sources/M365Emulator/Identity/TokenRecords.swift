/// What the emulator remembers about an issued access token (the token itself is opaque random text).
struct AccessTokenRecord {
    var tenant: Int
    var appID: String
    var resource: EmulatedResource
    /// App roles (client credentials) or delegated scopes.
    var permissions: [String]
    var appOnly: Bool
    var user: Int?
    var expiresAt: Double
    var revoked = false
    /// The client declared the `cp1` capability: continuous access evaluation answers it with claims challenges.
    var capable = false
    /// Issue order: a session revocation challenges the capable tokens issued before it.
    var serial = 0
}

/// An issued refresh token.
struct RefreshTokenRecord {
    var tenant: Int
    var appID: String
    var user: Int?
    var scope: String
    var issuedAt: Double
    var lastUsedAt: Double
    /// Set when an administrator revoked it: the AADSTS code to answer with, and when.
    var revokedCode: Int?
    var revokedAt: Double?
    var redeemed = false
    /// The refresh token whose redemption issued this one (strict rotation tracks the chain).
    var parent: String?
    /// Whether a refresh token issued from this one was redeemed: this one is then consumed for good.
    var successorRedeemed = false
}

/// An authorization code from `/authorize`, redeemable once within ten minutes.
struct AuthorizationCodeRecord {
    var tenant: Int
    var appID: String
    var redirectURI: String
    var scope: String
    var codeChallenge: String?
    var codeChallengeMethod: String?
    var user: Int?
    var expiresAt: Double
    var redeemed = false
}

/// A pending device authorization (RFC 8628 as implemented by the Microsoft identity platform).
struct DeviceCodeRecord {
    enum Status: Equatable {
        case pending
        case approved(user: Int?)
        case declined
        case redeemed
    }

    var deviceCode: String
    var userCode: String
    var tenant: Int
    var appID: String
    var scope: String
    var issuedAt: Double
    var expiresAt: Double
    var interval: Int
    var lastPollAt: Double?
    var status: Status = .pending
}

/// A pending device code as the admin API lists it.
public struct PendingDeviceCode: Sendable, Codable, Equatable {
    public var userCode: String
    public var tenantId: String
    public var clientId: String
    public var scope: String
    public var expiresAt: String
}
