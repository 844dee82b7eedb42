/// One parameter or property value of an Exchange Online cmdlet, as the admin API carries it in JSON.
public enum ExchangeValue: Sendable, Codable, Equatable {
    case string(String)
    case bool(Bool)
    case int(Int)
    case list([String])
    case null

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .int(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else { self = .list(try container.decode([String].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .list(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    var text: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// PowerShell's loose boolean binding: `$true`, `"true"`, 1.
    var truth: Bool? {
        switch self {
        case .bool(let value): value
        case .string(let value): ["true", "$true", "1"].contains(value.lowercased()) ? true : (["false", "$false", "0"].contains(value.lowercased()) ? false : nil)
        case .int(let value): value != 0
        default: nil
        }
    }
}
