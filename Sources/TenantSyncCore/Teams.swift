/// The Teams Chat licensing model: `A` scans, blocks or passes (licensed); `B` scans and passes only; evaluation scans, blocks or passes within a monthly API budget.
public enum LicensingModel: String, Codable, Sendable, CaseIterable {
    /// Scan, block or pass; needs a licence.
    case a = "A"
    /// Scan and pass only: blocking actions are refused.
    case b = "B"
    /// Scan, block or pass with a limited monthly API budget.
    case evaluation

    /// Whether the model allows blocking a message.
    public var allowsBlocking: Bool { self != .b }

    public init?(argument: String) {
        switch argument.lowercased() {
        case "a": self = .a
        case "b": self = .b
        case "evaluation", "eval": self = .evaluation
        default: return nil
        }
    }
}
