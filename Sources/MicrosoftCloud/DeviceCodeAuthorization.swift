import TenantSyncCore

/// The answer of the `/devicecode` endpoint: what the administrator must do, and what to poll with.
public struct DeviceCodeAuthorization: Sendable, Equatable {
    /// Polled with; never shown or logged.
    public var deviceCode: Secret
    /// The short code the administrator types at ``verificationURI``.
    public var userCode: String
    public var verificationURI: String
    /// Microsoft's ready-made instruction text.
    public var message: String?
    /// How long the device code stays valid.
    public var expiresIn: Duration
    /// The least time between two polls.
    public var interval: Duration
    /// The scopes asked for; repeated when polling.
    public var scopes: [String]

    public init(
        deviceCode: Secret, userCode: String, verificationURI: String, message: String?, expiresIn: Duration,
        interval: Duration, scopes: [String]
    ) {
        self.deviceCode = deviceCode
        self.userCode = userCode
        self.verificationURI = verificationURI
        self.message = message
        self.expiresIn = expiresIn
        self.interval = interval
        self.scopes = scopes
    }
}
