import Foundation

/// The scheme, host and port of a URL: where a request, and the bearer token in it, goes.
///
/// Graph hands out absolute URLs (`@odata.nextLink`, `@odata.deltaLink`); the client follows
/// one only when its origin is the configured Graph root's, so a tampered or stale link cannot
/// carry an access token to another host.
public struct HTTPOrigin: Sendable, Equatable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int

    /// The origin of an absolute `http`/`https` URL; `nil` for anything else, or a URL with user info.
    public init?(url: String) {
        guard let components = URLComponents(string: url),
              let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http",
              let host = components.host?.lowercased(), !host.isEmpty,
              components.user == nil, components.password == nil
        else { return nil }
        self.scheme = scheme
        self.host = host
        self.port = components.port ?? (scheme == "https" ? 443 : 80)
    }

    public var description: String { "\(scheme)://\(host):\(port)" }
}
