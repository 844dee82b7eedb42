/// One SMTP reply: a three-digit code and its text lines.
public struct SMTPReply: Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    public var isPositive: Bool { (200..<400).contains(code) }

    /// The reply as the server sent it, lines joined with ` / `.
    public var description: String { "\(code) \(lines.joined(separator: " / "))" }
}
