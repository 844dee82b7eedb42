import AsyncHTTPClient

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
    public static func make() -> HTTPClient {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.tracing.tracer = nil
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
