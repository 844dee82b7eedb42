import AsyncHTTPClient
import Foundation
import M365Emulator
import MicrosoftCloud
import TenantSyncConfig
import TenantSyncCore
import Testing
import TestSupport
@testable import TenantSyncDaemon

/// The outbound proxy with a real tinyproxy on loopback, and the national clouds' scopes.
@Suite("Outbound proxy (a real tinyproxy) and national cloud scopes", .serialized)
struct OutboundProxyDaemonTests {
    static let proxyPassword = "pr0xy-Pa55-w0rd"

    @Test("Token requests and Graph calls tunnel through the proxy; with the proxy stopped a refresh fails transiently, with no token-invalid alert")
    func throughTheProxy() async throws {
        try await TokenFixture.run { f in
            let proxy = try await TinyProxy.start(username: "tenantsync", password: Self.proxyPassword)
            defer { proxy.remove() }
            let clients = MicrosoftHTTPClients(proxy: OutboundProxy(
                host: "127.0.0.1", port: proxy.port, username: "tenantsync", password: Secret(Self.proxyPassword)
            ))
            do {
                try await check(f, proxy: proxy, clients: clients)
            } catch {
                await clients.shutdown()
                throw error
            }
            await clients.shutdown()
        }
    }

    private func check(_ f: TokenFixture, proxy: TinyProxy, clients: MicrosoftHTTPClients) async throws {
        #expect(clients.isProxied(f.base))
        let identity = try IdentityPlatformClient(
            httpClient: clients.client(for: f.base), endpoints: f.client.endpoints, requestTimeout: .seconds(10),
            logger: f.logs.logger("oauth.proxied"), now: { f.wall.now }
        )
        let refresher = TokenRefresher(
            storage: f.store, granter: MicrosoftTokenGranter(client: identity, productApp: f.productApp, accounts: f.store),
            configuration: .init(alertChannels: TokenFixture.channels), logger: f.logs.logger("refresher"), now: { f.wall.now }, random: { 0.5 }
        )
        let (account, grant) = try await f.delegatedGrant()
        let emulatorHostPort = "127.0.0.1:\(try #require(URL(string: f.base)?.port))"
        #expect(proxy.tunnels(to: emulatorHostPort) == 0, "the consent went through the proxy")

        #expect(await refresher.refreshIfDue(grantID: grant.id, onDemand: false), "the refresh through the proxy failed: \(f.logs.text.suffix(800))")
        let graph = GraphClient(graphRoot: f.base, http: clients.client(for: f.base), logger: f.logs.logger("graph"))
        _ = try await graph.get(graph.url("/organization"), accessToken: try await refresher.accessToken(grantID: grant.id), eventualConsistency: false)
        #expect(proxy.tunnels(to: emulatorHostPort) >= 1, "the proxy's log shows no tunnel to the emulator:\n\(proxy.log().suffix(1500))")
        let viaProxy = try f.emulator.counters(tenant: f.tenant.id)
        #expect(viaProxy["token.refresh_token"] == 1 && viaProxy["graph"] == 1)

        // The proxy goes away: Microsoft is unreachable, which says nothing about the grant.
        proxy.stop()
        try await f.makeDue(grant.id)
        #expect(await !refresher.refreshIfDue(grantID: grant.id, onDemand: false))
        #expect(try await f.store.grant(id: grant.id)?.state == .valid)
        #expect(try await f.store.account(id: account.id)?.state == .active)
        #expect(try await f.store.openIncidents().isEmpty)
        #expect(try await f.alerts(kind: "token-invalid").isEmpty, "an unreachable proxy raised a token-invalid alert")
        let status = try #require(try await f.store.tokenStatus(grantID: grant.id))
        #expect(status.lastRefreshOutcome?.hasPrefix("transient") == true, "\(status.lastRefreshOutcome ?? "nil")")
        #expect(f.logs.text.contains("Token refresh failed temporarily; retrying"))
        #expect(!f.logs.text.contains(Self.proxyPassword), "the proxy password reached a log")
        #expect(try f.emulator.counters(tenant: f.tenant.id)["token.refresh_token"] == 1, "a request bypassed the stopped proxy")
    }

    @Test("no_proxy sends a host direct; the others go through the proxy")
    func noProxy() async throws {
        let clients = MicrosoftHTTPClients(proxy: OutboundProxy(host: "127.0.0.1", port: 9, noProxy: ["login.microsoftonline.us"]))
        #expect(!clients.isProxied("https://login.microsoftonline.us"))
        #expect(clients.isProxied("https://graph.microsoft.us"))
        #expect(clients.isProxied("https://outlook.office365.us/adminapi"))
        let direct = MicrosoftHTTPClients(proxy: nil)
        #expect(!direct.isProxied("https://graph.microsoft.com"))
        await clients.shutdown()
        await direct.shutdown()
    }

    @Test("Every scope the daemon requests under a national cloud names a host of that cloud", arguments: ["usgov", "usgov-dod", "china"])
    func scopesStayInTheCloud(cloud: String) throws {
        let microsoft = try ConfigurationLoader(environment: [:]).parse(text: "[microsoft]\ncloud = \"\(cloud)\"\n", file: "t.toml").microsoft
        let expected = try #require(NationalCloud(rawValue: cloud))
        // The endpoints as the daemon builds them from the configuration.
        let endpoints = MicrosoftEndpoints(
            authority: microsoft.authority, graph: microsoft.graph, outlook: microsoft.outlook, management: microsoft.management
        )
        let requested = MicrosoftTokenGranter.delegatedScopes(endpoints.graphDefaultScope)
            + MicrosoftTokenGranter.delegatedScopes(endpoints.outlookDefaultScope)
            + [endpoints.graphDefaultScope, endpoints.outlookDefaultScope, endpoints.managementDefaultScope]
        let urls = requested.filter { $0.contains("://") } + [endpoints.tokenURL(tenant: "contoso.us"), endpoints.authorizeURL(tenant: "contoso.us")]
        #expect(urls.count == 7)
        for url in urls {
            let host = try #require(NationalCloud.host(of: url))
            let owner = NationalCloud.owning(host: host)
            #expect(owner.map { NationalCloud.sameCloud($0, expected) } == true, "\(url) under cloud = \(cloud) is not a host of that cloud")
            #expect(!host.hasSuffix(".com") || expected == .global, "\(url) names a worldwide host")
        }
    }
}
