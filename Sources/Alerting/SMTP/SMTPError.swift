/// A failed SMTP delivery: which step failed, the server's reply if any, and why.
///
/// Never contains the password: AUTH steps report only the server's reply.
public struct SMTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The protocol step that failed.
    public enum Step: String, Sendable {
        case connect, greeting, ehlo, starttls, tlsHandshake = "tls-handshake", auth, mailFrom = "mail-from"
        case rcptTo = "rcpt-to", data, message, quit, configuration
    }

    public var step: Step
    public var server: String
    public var replyCode: Int?
    /// The server's reply text or the local cause.
    public var detail: String

    public init(step: Step, server: String, replyCode: Int? = nil, detail: String) {
        self.step = step
        self.server = server
        self.replyCode = replyCode
        self.detail = detail
    }

    public var description: String {
        if let replyCode {
            return "SMTP delivery via \(server) failed at \(step.rawValue): server replied \(replyCode) \(detail)"
        }
        return "SMTP delivery via \(server) failed at \(step.rawValue): \(detail)"
    }
}
