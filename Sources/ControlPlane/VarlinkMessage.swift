import Foundation

/// One Varlink call as sent by a client (https://varlink.org/Method-Call).
public struct VarlinkCall: Codable, Sendable {
    public var method: String
    public var parameters: [String: VarlinkValue]?
    public var oneway: Bool?
    public var more: Bool?
    public var upgrade: Bool?

    public init(method: String, parameters: [String: VarlinkValue]? = nil, more: Bool? = nil) {
        self.method = method
        self.parameters = parameters
        self.more = more
    }
}

/// One Varlink reply; `error` set for an error reply, `continues` while more replies follow.
public struct VarlinkReply: Codable, Sendable {
    public var parameters: [String: VarlinkValue]?
    public var continues: Bool?
    public var error: String?

    public init(parameters: [String: VarlinkValue]? = nil, continues: Bool? = nil, error: String? = nil) {
        self.parameters = parameters
        self.continues = continues
        self.error = error
    }
}

/// A JSON value inside Varlink parameters.
public enum VarlinkValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([VarlinkValue])
    case object([String: VarlinkValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([VarlinkValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: VarlinkValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
