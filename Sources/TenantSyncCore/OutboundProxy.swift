/// The HTTP proxy every request to Microsoft goes through (`[microsoft] proxy`), and the hosts that bypass it.
///
/// An HTTP CONNECT proxy: the TLS session runs end to end through the tunnel, so the proxy sees host
/// names and ports, never tokens. The password is a ``Secret`` and never printed.
public struct OutboundProxy: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: Secret?
    /// Hosts reached directly: an exact name, `.suffix` / `*.suffix` for a domain and its subdomains, or `*` for all.
    public var noProxy: [String]

    public init(host: String, port: Int, username: String? = nil, password: Secret? = nil, noProxy: [String] = []) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.noProxy = noProxy
    }

    /// Whether a request to `host` bypasses the proxy (matched like curl's `NO_PROXY`, case-insensitively).
    public func bypasses(host: String) -> Bool {
        let target = host.lowercased().trimmingSuffixDot
        for entry in noProxy {
            var pattern = entry.lowercased().trimmingSuffixDot
            if pattern == "*" { return true }
            if pattern.hasPrefix("*.") { pattern.removeFirst() }
            if pattern.hasPrefix(".") {
                if target.hasSuffix(pattern) || target == String(pattern.dropFirst()) { return true }
            } else if target == pattern || target.hasSuffix("." + pattern) {
                return true
            }
        }
        return false
    }

    /// `http://[user@]host:port`: the password never appears.
    public var description: String { "http://\(username.map { "\($0)@" } ?? "")\(host):\(port)" }
}

extension String {
    fileprivate var trimmingSuffixDot: String { hasSuffix(".") ? String(dropLast()) : self }
}
