/// Why a file holding key material was not read: missing, unreadable, not a regular file, or open to other users.
public struct PrivateFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        case missing, unreadable, notRegularFile = "not-regular-file", owner, mode
    }

    public var code: Code
    /// Names the file and what to do (`chmod 600 …`); never its content.
    public var message: String
    public var context: [String: String]

    public var description: String { message }
}
