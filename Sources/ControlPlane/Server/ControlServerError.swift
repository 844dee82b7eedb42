#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why the control server could not start.
public struct ControlServerError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Another daemon accepts connections on the socket path.
        case alreadyRunning
        /// The socket path cannot be used (wrong file type, permissions, bind failure).
        case socketUnavailable
    }

    public var code: Code
    public var message: String
    public var path: String?
    public var errno: Int32?

    public init(_ code: Code, _ message: String, path: String? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.path = path
        self.errno = errno
    }

    public var description: String {
        var text = message
        if let path { text += " (\(path))" }
        if let errno { text += ": \(String(cString: strerror(errno)))" }
        return text
    }
}
