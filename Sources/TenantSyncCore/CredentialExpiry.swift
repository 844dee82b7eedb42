import Foundation

/// When one app credential (a client secret or a certificate) stops working, and which expiry alert was last raised for it.
public struct CredentialExpiry: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        case secret, certificate
    }

    /// `product` for the product's app, `account:<id>` for a Teams Chat account's own app.
    public var credential: String
    public var accountID: Int64?
    public var kind: Kind
    /// A certificate's SHA-1 thumbprint in hex, as the Entra admin center lists it.
    public var thumbprint: String?
    public var expiresAt: Date
    /// The last threshold alerted, in days (30, 7, 1), 0 once `credential-expired` was raised; `nil` before any.
    public var alertedDays: Int?

    public init(credential: String, accountID: Int64?, kind: Kind, thumbprint: String?, expiresAt: Date, alertedDays: Int? = nil) {
        self.credential = credential
        self.accountID = accountID
        self.kind = kind
        self.thumbprint = thumbprint
        self.expiresAt = expiresAt
        self.alertedDays = alertedDays
    }

    /// The name of the product app's credential.
    public static let product = "product"

    /// The name of a Teams Chat account's own app credential.
    public static func account(_ id: Int64) -> String { "account:\(id)" }
}

/// When a credential's expiry is alerted: 30, 7 and 1 days ahead, and at expiry; each once.
public enum CredentialExpiryRules {
    /// Days ahead of expiry at which `credential-expiring` is raised, largest first.
    public static let thresholds = [30, 7, 1]

    /// The stage due at `now`: a threshold in days, 0 when expired, `nil` when more than 30 days are left.
    public static func dueStage(expiresAt: Date, now: Date) -> Int? {
        let left = expiresAt.timeIntervalSince(now)
        if left <= 0 { return 0 }
        return thresholds.last { left <= Double($0) * 86_400 }
    }

    /// The stage to alert now, if any: a due stage nearer to expiry than the one last alerted.
    ///
    /// A daemon that first sees a credential 5 days before expiry raises the 7-day alert only, not
    /// the 30-day one too: only the nearest due stage is alerted.
    public static func stageToAlert(_ expiry: CredentialExpiry, now: Date) -> Int? {
        guard let due = dueStage(expiresAt: expiry.expiresAt, now: now) else { return nil }
        if let alerted = expiry.alertedDays, alerted <= due { return nil }
        return due
    }

    /// Whole days left, rounded up (a credential expiring in 6 days and 2 hours has 7 days left); 0 once expired.
    public static func daysLeft(expiresAt: Date, now: Date) -> Int {
        max(0, Int((expiresAt.timeIntervalSince(now) / 86_400).rounded(.up)))
    }
}
