import struct Foundation.Date
import TenantSyncCore

/// When an app credential (client secret or certificate) expires, as `Status` reports it.
public struct CredentialExpiryInfo: Codable, Sendable, Equatable {
    /// `product`, or `account:ID` for a Teams Chat account's own app.
    public var credential: String
    /// `secret` or `certificate`.
    public var kind: String
    public var accountID: Int64?
    public var thumbprint: String?
    public var expiresAt: Date

    public init(_ expiry: CredentialExpiry) {
        credential = expiry.credential
        kind = expiry.kind.rawValue
        accountID = expiry.accountID
        thumbprint = expiry.thumbprint
        expiresAt = expiry.expiresAt
    }
}
