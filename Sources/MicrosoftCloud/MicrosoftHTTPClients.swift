import AsyncHTTPClient
import TenantSyncCore

/// The daemon's HTTP clients to Microsoft: one through the outbound proxy (`[microsoft] proxy`), one direct.
///
/// AsyncHTTPClient sets a proxy per client, not per host, so `no_proxy` is two clients and a choice per
/// endpoint: every Microsoft client (identity, Graph, Exchange, management) talks to one origin and is built
/// with ``client(for:)`` of its root. With no proxy there is one client. The owner must ``shutdown()`` them.
public final class MicrosoftHTTPClients: Sendable {
    /// Connects directly (no proxy configured, or a host `no_proxy` lists).
    public let direct: HTTPClient
    /// Tunnels through the proxy with HTTP CONNECT; `nil` without a proxy.
    public let proxied: HTTPClient?
    public let proxy: OutboundProxy?

    public init(proxy: OutboundProxy?) {
        self.proxy = proxy
        self.direct = MicrosoftHTTPClient.make()
        self.proxied = proxy.map { MicrosoftHTTPClient.make(proxy: $0) }
    }

    /// The client for requests to `root` (an endpoint URL such as `https://graph.microsoft.us`).
    public func client(for root: String) -> HTTPClient {
        guard let proxy, let proxied else { return direct }
        guard let host = NationalCloud.host(of: root) else { return proxied }
        return proxy.bypasses(host: host) ? direct : proxied
    }

    /// Whether requests to `root` go through the proxy.
    public func isProxied(_ root: String) -> Bool { client(for: root) !== direct }

    public func shutdown() async {
        try? await direct.shutdown()
        try? await proxied?.shutdown()
    }
}
