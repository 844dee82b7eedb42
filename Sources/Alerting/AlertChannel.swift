/// A way an alert reaches an operator. Each channel's delivery is tracked on its own.
public enum AlertChannel: String, Codable, Sendable, CaseIterable {
    case journal
    case smtp
    case hook
}
