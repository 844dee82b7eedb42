/// Which messages Exchange Online (Inline Mode) routes through the product.
public enum InlineDirection: String, Sendable, Codable, CaseIterable {
    /// Inbound messages only; the account can be upgraded to `both` later.
    case inbound
    /// Inbound and outbound messages (the default).
    case both
}

/// The Inline Mode mail-flow choices made at provisioning.
public enum InlineMailFlowDefaults {
    /// The policy enabled on completion when the operator names none.
    public static let policy = "Default Inline Protection"
    public static let direction = InlineDirection.both
}
