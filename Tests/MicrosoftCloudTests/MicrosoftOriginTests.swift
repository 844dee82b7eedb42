import AsyncHTTPClient
import Foundation
import Logging
import Testing
import TenantSyncCore
import TestSupport
@testable import MicrosoftCloud

/// Where tenantsync's tokens may go: only to the configured Microsoft origins, never along a
/// redirect, never to a link Graph points elsewhere. Each test runs a loopback "foreign" server
/// and proves, by its empty request log, that nothing reached it.
@Suite("Requests stay on the configured Microsoft origins", .serialized)
struct MicrosoftOriginTests {
    struct Item: Decodable, Sendable {
        var id: String
    }

    static let token = Secret("eyJ0eXAi.bearer-token-that-must-stay-home")

    /// Runs `body` with a foreign server that answers everything, and the daemon's HTTP client.
    static func withForeignServer(_ body: (ScriptedHTTPServer, HTTPClient) async throws -> Void) async throws {
        let foreign = try ScriptedHTTPServer { _ in .json(#"{"value":[]}"#) }
        defer { foreign.stop() }
        let http = MicrosoftHTTPClient.make()
        do {
            try await body(foreign, http)
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    @Test func graphRedirectIsAnErrorNamingTheTargetAndIsNotFollowed() async throws {
        try await Self.withForeignServer { foreign, http in
            let target = foreign.origin + "/v1.0/users"
            let graph = try ScriptedHTTPServer { _ in .init(status: 302, headers: [("Location", target + "?$skiptoken=secretish")]) }
            defer { graph.stop() }
            let client = GraphClient(graphRoot: graph.origin, http: http, logger: Logger(label: "test"))

            let error = await #expect(throws: GraphError.self, "a 302 from Graph must be an error") {
                try await client.page(client.url("/users?$top=999"), as: Item.self, accessToken: Self.token)
            }
            #expect(error?.status == 302)
            #expect(error?.code == "redirect")
            #expect(error?.description.contains(target) == true, "the error names where the redirect pointed: \(String(describing: error))")
            #expect(error?.description.contains("secretish") == false, "the target's query is not repeated")
            #expect(graph.requests.count == 1, "a redirect is not retried")
            #expect(foreign.requests.isEmpty, "the redirect was followed: \(foreign.requests.map(\.target))")
        }
    }

    /// A next link to another origin (or one dressed up to look like Graph's) is refused before the
    /// request is made; the same origin spelled in capitals is still Graph and is followed.
    @Test func nextLinkIsFollowedOnlyToTheGraphOrigin() async throws {
        try await Self.withForeignServer { foreign, http in
            let graph = try ScriptedHTTPServer { request in
                .json(#"{"value":[{"id":"u1"}],"@odata.nextLink":null}"#)
            }
            defer { graph.stop() }
            let client = GraphClient(graphRoot: graph.origin, http: http, logger: Logger(label: "test"))
            let foreignLinks = [
                foreign.origin + "/v1.0/users?$skiptoken=1",
                // User info that names Graph's host; the request would go to the foreign port.
                "http://127.0.0.1:\(graph.port)@127.0.0.1:\(foreign.port)/v1.0/users",
                "ftp://127.0.0.1:\(foreign.port)/v1.0/users",
            ]
            for link in foreignLinks {
                let error = await #expect(throws: GraphError.self, "a link to \(link) must be refused") {
                    try await client.page(link, as: Item.self, accessToken: Self.token)
                }
                #expect(error?.code == "foreignOrigin", "\(link): \(String(describing: error))")
                #expect(error?.description.contains("outside the configured Graph origin") == true)
            }
            #expect(foreign.requests.isEmpty, "a request reached the foreign origin: \(foreign.requests.map(\.target))")
            #expect(graph.requests.isEmpty, "nothing was meant to reach Graph either")

            let sameOrigin = "HTTP://127.0.0.1:\(graph.port)/v1.0/users?$skiptoken=2"
            let page = try await client.page(sameOrigin, as: Item.self, accessToken: Self.token)
            #expect(page.value.map(\.id) == ["u1"])
            #expect(graph.requests.map(\.target) == ["/v1.0/users?$skiptoken=2"])
            #expect(graph.requests.first?.headers["authorization"] == "Bearer \(Self.token.reveal)")
        }
    }

    /// Graph's origin followed by more digits: another port, and one above 65535. AsyncHTTPClient
    /// traps on such a port (a precondition in NIO's `SocketAddress`), so without the origin check a
    /// single hostile next link would crash the daemon; with it, the link never reaches the client.
    @Test func nextLinkWithGraphsOriginAsAPrefixOfItsPortIsRefused() async throws {
        try await Self.withForeignServer { _, http in
            let graph = try ScriptedHTTPServer { _ in .json(#"{"value":[]}"#) }
            defer { graph.stop() }
            let client = GraphClient(graphRoot: graph.origin, http: http, logger: Logger(label: "test"))
            let error = await #expect(throws: GraphError.self) {
                try await client.page("http://127.0.0.1:\(graph.port)99/v1.0/users", as: Item.self, accessToken: Self.token)
            }
            #expect(error?.code == "foreignOrigin", "\(String(describing: error))")
            #expect(graph.requests.isEmpty)
        }
    }

    @Test func tokenRequestRedirectIsAnErrorNamingTheTargetAndIsNotFollowed() async throws {
        try await Self.withForeignServer { foreign, http in
            let target = foreign.origin + "/common/oauth2/v2.0/token"
            let authority = try ScriptedHTTPServer { _ in .init(status: 307, headers: [("Location", target + "?code=abc")]) }
            defer { authority.stop() }
            let client = try IdentityPlatformClient(
                httpClient: http,
                endpoints: MicrosoftEndpoints(authority: authority.origin, graph: authority.origin, outlook: authority.origin),
                logger: Logger(label: "test")
            )
            let credentials = OAuthClientCredentials(clientID: "11111111-2222-3333-4444-555555555555", clientSecret: Secret("client-secret-value"))

            let error = await #expect(throws: IdentityPlatformError.self, "a 307 from the token endpoint must be an error") {
                try await client.clientCredentials(tenant: "contoso.onmicrosoft.com", client: credentials, scope: "https://graph.microsoft.com/.default")
            }
            #expect(error?.httpStatus == 307)
            #expect(error?.redirectLocation == target)
            #expect(error?.description.contains(target) == true, "the error names where the redirect pointed: \(String(describing: error))")
            #expect(error?.description.contains("client-secret-value") == false)
            #expect(authority.requests.count == 1)
            #expect(foreign.requests.isEmpty, "the token request (with the client secret) followed the redirect")
        }
    }
}
