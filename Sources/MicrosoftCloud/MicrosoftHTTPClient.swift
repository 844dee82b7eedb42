import AsyncHTTPClient

/// The HTTP client tenantsync talks to Microsoft (and the emulator) with.
public enum MicrosoftHTTPClient {
    /// A client on the shared event loops with the process-wide client's settings, minus tracing.
    ///
    /// Nothing in tenantsync exports traces, yet AsyncHTTPClient opens a (no-op) span per request, with its
    /// own parse of the URL: about 5% of a directory sync's CPU under perf. The caller owns the client and
    /// must `shutdown()` it.
    public static func make() -> HTTPClient {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
