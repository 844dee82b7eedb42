/// A configuration problem, located at `file:line` when the line is known.
///
/// Its description is the one line operators see on stderr:
/// `/etc/tenantsync/tenantsyncd.toml:12: unknown key "smpt" in [daemon]`.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
