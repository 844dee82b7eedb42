/// A Varlink error reply: a fully qualified error name and its parameters.
///
/// Servers throw it to answer a call with an error; clients receive it when
/// the server answered with one.
public struct VarlinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The qualified name, e.g. `org.varlink.service.MethodNotFound`.
    public var name: String
    public var parameters: [String: VarlinkValue]

    public init(name: String, parameters: [String: VarlinkValue] = [:]) {
        self.name = name
        self.parameters = parameters
    }

    /// The last component of the name, e.g. `MethodNotFound`.
    public var shortName: String {
        name.split(separator: ".").last.map(String.init) ?? name
    }

    /// The `message` parameter, if the error has one.
    public var message: String? { parameters["message"]?.stringValue }

    public var description: String {
        if let message { return "\(name): \(message)" }
        if parameters.isEmpty { return name }
        let facts = parameters.keys.sorted().map { "\($0)=\(Self.render(parameters[$0]!))" }.joined(separator: " ")
        return "\(name) (\(facts))"
    }

    private static func render(_ value: VarlinkValue) -> String {
        switch value {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .double(let number): return String(number)
        case .bool(let flag): return String(flag)
        case .null: return "null"
        case .array(let values): return values.map(render).joined(separator: ",")
        case .object: return "{…}"
        }
    }

    static let serviceInterface = "org.varlink.service"

    /// `org.varlink.service.InterfaceNotFound`.
    public static func interfaceNotFound(_ interface: String) -> VarlinkError {
        VarlinkError(name: "\(serviceInterface).InterfaceNotFound", parameters: ["interface": .string(interface)])
    }

    /// `org.varlink.service.MethodNotFound`.
    public static func methodNotFound(_ method: String) -> VarlinkError {
        VarlinkError(name: "\(serviceInterface).MethodNotFound", parameters: ["method": .string(method)])
    }

    /// `org.varlink.service.MethodNotImplemented`.
    public static func methodNotImplemented(_ method: String) -> VarlinkError {
        VarlinkError(name: "\(serviceInterface).MethodNotImplemented", parameters: ["method": .string(method)])
    }

    /// `org.varlink.service.InvalidParameter`.
    public static func invalidParameter(_ parameter: String) -> VarlinkError {
        VarlinkError(name: "\(serviceInterface).InvalidParameter", parameters: ["parameter": .string(parameter)])
    }

    /// `org.varlink.service.ExpectedMore`.
    public static let expectedMore = VarlinkError(name: "\(serviceInterface).ExpectedMore")
}
