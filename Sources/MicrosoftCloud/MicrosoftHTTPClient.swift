import AsyncHTTPClient
import TenantSyncCore

/// The HTTP client tenantsync talks to Microsoft (and the emulator) with.
public enum MicrosoftHTTPClient {
    /// A client on the shared event loops with the process-wide client's settings, minus tracing and redirects.
    ///
    /// Redirects are never followed: a token request or a Graph call that is redirected would carry
    /// a client secret, a refresh token or a bearer token to wherever the `Location` points. The 3xx
    /// comes back as an answer and the clients turn it into an error naming the target.
    ///
    /// Nothing in tenantsync exports traces, yet AsyncHTTPClient opens a (no-op) span per request, with its
    /// own parse of the URL: about 5% of a directory sync's CPU under perf. The caller owns the client and
    /// must `shutdown()` it.
    ///
    /// With a `proxy`, every request is tunnelled through it with HTTP CONNECT (AsyncHTTPClient does so for
    /// http:// targets as well), authenticated with Basic when the proxy has a user name.
    public static func make(proxy: OutboundProxy? = nil) -> HTTPClient {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.tracing.tracer = nil
        configuration.redirectConfiguration = .disallow
        if let proxy {
            let authorization = proxy.username.map { HTTPClient.Authorization.basic(username: $0, password: proxy.password?.reveal ?? "") }
            configuration.proxy = .server(host: proxy.host, port: proxy.port, authorization: authorization)
        }
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
