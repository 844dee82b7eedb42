/// Told about the Microsoft Graph calls a tenant's directory sync makes, for metered (evaluation-mode) accounts.
public protocol GraphCallMeter: Sendable {
    /// One Graph call of the tenant was answered (any status but 402).
    func graphCallMade(tenantID: String) async
    /// Microsoft answered 402 Payment Required: the metered allowance is used up.
    func paymentRequired(tenantID: String) async
}
