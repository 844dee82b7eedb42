/// The envelope of one Varlink call, without its parameters (https://varlink.org/Method-Call).
struct VarlinkCallHeader: Decodable, Sendable {
    var method: String
    var oneway: Bool?
    var more: Bool?
    var upgrade: Bool?
}

/// The parameters of a call, decoded into the method's own type.
struct VarlinkCallParameters<Parameters: Decodable>: Decodable {
    var parameters: Parameters?
}

/// A call as a client sends it.
struct VarlinkOutgoingCall<Parameters: Encodable>: Encodable {
    var method: String
    var parameters: Parameters
    var more: Bool?
    var oneway: Bool?
}

/// A successful reply as the server sends it.
struct VarlinkOutgoingReply<Parameters: Encodable>: Encodable {
    var parameters: Parameters
    var continues: Bool?
}

/// An error reply as the server sends it.
struct VarlinkOutgoingError: Encodable {
    var error: String
    var parameters: [String: VarlinkValue]
}

/// A reply as a client reads it: either parameters or an error.
struct VarlinkIncomingReply<Parameters: Decodable>: Decodable {
    var parameters: Parameters?
    var continues: Bool?
    var error: String?
}

/// The reply shape used to read an error's parameters.
struct VarlinkIncomingErrorReply: Decodable {
    var error: String?
    var parameters: [String: VarlinkValue]?
    var continues: Bool?
}

/// An empty parameter object, `{}`.
public struct VarlinkEmpty: Codable, Sendable, Equatable {
    public init() {}
}
