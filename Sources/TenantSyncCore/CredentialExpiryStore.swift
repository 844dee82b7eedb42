import Foundation

/// The stored expiries of app credentials and the expiry alerts raised for them.
public protocol CredentialExpiryStore: Sendable {
    /// Stores a credential's expiry; a changed expiry or thumbprint (a rotation) clears the alerts already raised.
    func recordCredentialExpiry(_ expiry: CredentialExpiry, at: Date) async throws
    /// Forgets a credential (the app now authenticates without one that expires, or the account is gone).
    func removeCredentialExpiry(credential: String) async throws
    /// Every stored expiry, nearest first.
    func credentialExpiries() async throws -> [CredentialExpiry]
    /// Marks `days` alerted for the credential and stores `alert` for `channels`, in one transaction.
    ///
    /// Returns `nil` and stores nothing when the credential's expiry is no longer `expiresAt` (it was
    /// rotated meanwhile) or a stage at least as near was alerted already: each stage alerts once.
    func raiseCredentialExpiryAlert(
        credential: String, expiresAt: Date, days: Int, alert: NewAlert, channels: [String], at: Date
    ) async throws -> Alert?
}
