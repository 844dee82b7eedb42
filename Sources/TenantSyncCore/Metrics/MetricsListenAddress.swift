/// Where the metrics endpoint listens: `[metrics] listen = "127.0.0.1:9464"` (`[::1]:9464` for IPv6).
public struct MetricsListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// An IPv4 or IPv6 address (without brackets) or a host name.
    public var host: String
    /// 1-65535, or 0 for a free port chosen at bind time (tests).
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` or `[IPV6]:PORT`; `nil` when the text is not of that shape.
    public init?(parsing text: String) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" }), !portText.isEmpty, portText.allSatisfy(\.isASCII),
              let port = Int(portText), (0...65_535).contains(port)
        else { return nil }
        self.host = String(host)
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
