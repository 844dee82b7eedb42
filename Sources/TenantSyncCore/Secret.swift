/// A secret value (token, client secret, password) that never prints itself.
///
/// `description`, `debugDescription` and string interpolation all say
/// `<redacted>`, so a secret that slips into a log line or an error message
/// leaks nothing. Read the value on purpose with ``reveal``.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The clear value. Use only where the secret must leave the process (an HTTP request, a cipher).
    public let reveal: String

    public init(_ value: String) { self.reveal = value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
    public var isEmpty: Bool { reveal.isEmpty }
}
