/// Why a Varlink client could not get an answer (as opposed to an error reply).
public struct VarlinkClientError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Nobody listens on the socket, or it does not exist.
        case unreachable
        /// The socket file refused us (file permissions).
        case permissionDenied
        /// The server closed the connection before the reply.
        case connectionClosed
        /// The server sent something that is not a Varlink reply.
        case protocolViolation
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
