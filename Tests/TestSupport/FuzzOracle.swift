import ControlPlane
import Foundation

/// Judges the control server's answer to one fuzzed message from the message alone, as a Varlink client would.
public struct FuzzOracle: Sendable {
    /// The call that is interleaved with the fuzz: its answer is known exactly.
    public static let getInfo = Array(#"{"method":"org.varlink.service.GetInfo"}"#.utf8)
    static let nestingLimit = 64

    /// The version the server under test reports in GetInfo.
    public var version: String

    public init(version: String) {
        self.version = version
    }

    /// Every error name the server may send: the Varlink service errors and those the interface declares.
    static let knownErrors: Set<String> = {
        let service = ["InterfaceNotFound", "MethodNotFound", "MethodNotImplemented", "InvalidParameter", "PermissionDenied", "ExpectedMore"]
            .map { "\(ControlInterface.serviceName).\($0)" }
        return Set(service + declared("error").map { "\(ControlInterface.name).\($0)" })
    }()

    /// Every method a call may succeed on.
    static let knownMethods: Set<String> = Set(
        ["\(ControlInterface.serviceName).GetInfo", "\(ControlInterface.serviceName).GetInterfaceDescription"]
            + declared("method").map { "\(ControlInterface.name).\($0)" }
    )

    /// Names declared with `keyword` (`error`, `method`) in the interface description.
    private static func declared(_ keyword: String) -> [String] {
        ControlInterface.description.split(separator: "\n").compactMap { line in
            guard line.hasPrefix(keyword + " ") else { return nil }
            return line.dropFirst(keyword.count + 1).prefix { $0.isLetter || $0.isNumber }.description
        }
    }

    /// Whether the server must answer rather than may close: the message is a JSON object within the nesting limit.
    ///
    /// Anything else (not JSON, invalid UTF-8, not an object, nested too deep) is not a Varlink call, and
    /// closing the connection is the answer the protocol allows.
    public func mustAnswer(_ message: [UInt8]) -> Bool {
        guard Self.depth(of: message) <= Self.nestingLimit else { return false }
        return (try? JSONSerialization.jsonObject(with: Data(message), options: [.fragmentsAllowed])) is [String: Any]
    }

    /// The deepest nesting of arrays and objects, outside strings.
    static func depth(of bytes: [UInt8]) -> Int {
        var depth = 0, deepest = 0
        var inString = false, escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
        return deepest
    }

    /// What is wrong with `reply` as the answer to `message`; `nil` when it is a valid answer.
    public func problem(reply: [UInt8], to message: [UInt8]) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(reply)) as? [String: Any] else {
            return "the reply is not a JSON object: \(String(decoding: reply.prefix(200), as: UTF8.self))"
        }
        let call = try? JSONSerialization.jsonObject(with: Data(message)) as? [String: Any]
        // Read from the text: a message may name the method twice (JSON leaves duplicate keys to the reader) or hold
        // a string Foundation refuses (a lone surrogate) in a field the server never decodes.
        let methods = Self.methodLiterals(in: message)
        if let name = object["error"] {
            guard let name = name as? String, Self.knownErrors.contains(name) else { return "unknown error \(String(describing: name))" }
            let parameters = object["parameters"] as? [String: Any] ?? [:]
            let required: String
            switch name {
            case "\(ControlInterface.serviceName).InvalidParameter": required = "parameter"
            case "\(ControlInterface.serviceName).MethodNotFound", "\(ControlInterface.serviceName).MethodNotImplemented": required = "method"
            case "\(ControlInterface.serviceName).InterfaceNotFound": required = "interface"
            case "\(ControlInterface.name).MessageTooLarge": required = "limit"
            case _ where name.hasPrefix(ControlInterface.name + "."): required = "message"
            default: required = ""
            }
            // Present, and an operator-facing message also says something (an interface name may be the empty one asked for).
            if !required.isEmpty, parameters[required] == nil || (required == "message" && (parameters[required] as? String)?.isEmpty != false) {
                return "\(name) without its \(required) parameter: \(parameters)"
            }
            if name.hasSuffix(".MethodNotFound"), let named = parameters["method"] as? String, !methods.contains(named) {
                return "MethodNotFound names \(named), the call named \(methods)"
            }
            // An envelope flag of the wrong type is named as the invalid parameter.
            if let call {
                for flag in ["more", "oneway", "upgrade"] {
                    if let value = call[flag], !(value is NSNull), !Self.isBool(value) {
                        guard name.hasSuffix(".InvalidParameter"), parameters["parameter"] as? String == flag else {
                            return "\(flag) = \(value) must be refused as InvalidParameter(\(flag)), got \(name) \(parameters)"
                        }
                    }
                }
            }
            return nil
        }
        guard object["parameters"] is [String: Any] else { return "neither an error nor parameters: \(object)" }
        guard methods.contains(where: Self.knownMethods.contains) else { return "a success reply to a call of \(methods)" }
        if let call {
            for flag in ["more", "oneway", "upgrade"] {
                if let value = call[flag], !(value is NSNull), !Self.isBool(value) { return "a success reply despite \(flag) = \(value)" }
            }
            if call["upgrade"].map(Self.isTrue) == true { return "a success reply to an upgrade request" }
        }
        return nil
    }

    /// Every string given to a `"method"` key, in order.
    static func methodLiterals(in message: [UInt8]) -> [String] {
        let text = String(decoding: message, as: UTF8.self)
        let pattern = /"method"\s*:\s*"((?:[^"\\]|\\.)*)"/
        return text.matches(of: pattern).map { String($0.output.1) }
    }

    /// Whether `reply` is the exact answer to ``getInfo`` from a tenantsyncd control server of ``version``.
    public func isGetInfoReply(_ reply: [UInt8]) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: Data(reply)) as? [String: Any],
              object["error"] == nil, let parameters = object["parameters"] as? [String: Any] else { return false }
        return parameters["product"] as? String == "tenantsyncd" && parameters["version"] as? String == version
            && (parameters["interfaces"] as? [String])?.contains(ControlInterface.name) == true
    }

    /// The value as JSON text: tells `true` from `1`, which bridged numbers do not.
    private static func literal(_ value: Any) -> String {
        (try? JSONSerialization.data(withJSONObject: [value], options: [.fragmentsAllowed])).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    private static func isBool(_ value: Any) -> Bool { ["[true]", "[false]"].contains(Self.literal(value)) }

    private static func isTrue(_ value: Any) -> Bool { Self.literal(value) == "[true]" }
}
