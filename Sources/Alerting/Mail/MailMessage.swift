import Foundation

/// A plain-text UTF-8 mail, rendered as an RFC 5322 message with MIME headers.
public struct MailMessage: Sendable, Equatable {
    /// How the body is encoded on the wire.
    public enum BodyEncoding: String, Sendable {
        case quotedPrintable = "quoted-printable"
        case base64
    }

    public var from: String
    public var recipients: [String]
    public var subject: String
    public var body: String
    public var date: Date
    /// Without angle brackets, e.g. `1234.abcd@tenantsync`.
    public var messageID: String
    public var bodyEncoding: BodyEncoding
    /// Extra headers (`X-Tenantsync-Alert-Kind`), ASCII names; values are encoded when needed.
    public var extraHeaders: [(name: String, value: String)]

    public init(
        from: String, recipients: [String], subject: String, body: String, date: Date = Date(), messageID: String? = nil,
        bodyEncoding: BodyEncoding = .quotedPrintable, extraHeaders: [(name: String, value: String)] = []
    ) {
        self.from = from
        self.recipients = recipients
        self.subject = subject
        self.body = body
        self.date = date
        let domain = MailMessage.envelopeAddress(from).flatMap { $0.split(separator: "@").last.map(String.init) } ?? "tenantsync.invalid"
        self.messageID = messageID ?? "\(UUID().uuidString.lowercased())@\(domain)"
        self.bodyEncoding = bodyEncoding
        self.extraHeaders = extraHeaders
    }

    public static func == (lhs: MailMessage, rhs: MailMessage) -> Bool {
        lhs.render() == rhs.render()
    }

    /// The message with CRLF line ends, headers then body.
    public func render() -> String {
        var headers: [String] = [
            "Date: \(Self.rfc5322Date(date))",
            "From: \(Self.headerAddress(from))",
            "To: \(recipients.map(Self.headerAddress).joined(separator: ",\r\n "))",
            "Subject: \(MIMEEncoding.headerValue(Self.oneLine(subject)))",
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: \(bodyEncoding.rawValue)",
        ]
        for (name, value) in extraHeaders {
            headers.append("\(name): \(MIMEEncoding.headerValue(Self.oneLine(value)))")
        }
        let encodedBody = switch bodyEncoding {
        case .quotedPrintable: MIMEEncoding.quotedPrintable(body)
        case .base64: MIMEEncoding.base64Lines(body)
        }
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + encodedBody + "\r\n"
    }

    /// The bare `local@domain` of `addr`, `<addr>` or `Name <addr>`; `nil` if it is not a plausible address.
    public static func envelopeAddress(_ address: String) -> String? {
        var bare = address.trimmingCharacters(in: .whitespaces)
        if let open = bare.lastIndex(of: "<"), let close = bare.lastIndex(of: ">"), open < close {
            bare = String(bare[bare.index(after: open)..<close])
        }
        let parts = bare.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
              bare.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F && !"<>()[]\\,;:\"".unicodeScalars.contains($0) })
        else { return nil }
        return bare
    }

    /// An address for a header: a non-ASCII display name is encoded, the address kept.
    static func headerAddress(_ address: String) -> String {
        let trimmed = oneLine(address).trimmingCharacters(in: .whitespaces)
        guard let open = trimmed.lastIndex(of: "<"), open > trimmed.startIndex else { return trimmed }
        let name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
        let addr = trimmed[open...]
        if name.utf8.allSatisfy({ $0 < 0x80 }) { return "\(name) \(addr)" }
        return "\(MIMEEncoding.headerValue(name)) \(addr)"
    }

    /// Header injection guard: no CR or LF inside a header value.
    static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }

    /// `Tue, 21 Nov 2026 02:13:00 +0000`.
    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }
}
