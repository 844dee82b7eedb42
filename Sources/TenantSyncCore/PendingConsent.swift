import Foundation

/// A device-code consent shown to an administrator and not answered yet.
///
/// It is kept in the store, the device code sealed like a token: whichever daemon continues the provisioning (another
/// node of a cluster, or this one after a restart) polls the code the administrator already has, instead of showing a
/// new one and losing a sign-in that may be under way.
public struct PendingConsent: Sendable, Equatable {
    public var accountID: Int64
    /// The provisioning stage the consent belongs to (`ProvisioningStage`'s raw value).
    public var stage: String
    /// Polled with; never shown or logged.
    public var deviceCode: Secret
    /// The short code the administrator types at ``verificationURI``.
    public var userCode: String
    public var verificationURI: String
    /// Microsoft's ready-made instruction text.
    public var message: String?
    /// The least time between two polls.
    public var interval: Duration
    /// The scopes asked for; repeated when polling.
    public var scopes: [String]
    public var expiresAt: Date

    public init(
        accountID: Int64, stage: String, deviceCode: Secret, userCode: String, verificationURI: String, message: String?,
        interval: Duration, scopes: [String], expiresAt: Date
    ) {
        self.accountID = accountID
        self.stage = stage
        self.deviceCode = deviceCode
        self.userCode = userCode
        self.verificationURI = verificationURI
        self.message = message
        self.interval = interval
        self.scopes = scopes
        self.expiresAt = expiresAt
    }
}

/// Where pending consents are kept: one per account at most.
public protocol ConsentSessionStore: Sendable {
    /// Stores the account's pending consent, replacing the one it had (an account has one consent session at a time);
    /// forgets every consent expired at `date`.
    func savePendingConsent(_ consent: PendingConsent, at date: Date) async throws
    /// The account's pending consent of `stage`, if one is stored and not expired at `now`.
    func pendingConsent(accountID: Int64, stage: String, now: Date) async throws -> PendingConsent?
    /// Forgets the account's pending consent (answered, declined or spent).
    func removePendingConsent(accountID: Int64) async throws
}
