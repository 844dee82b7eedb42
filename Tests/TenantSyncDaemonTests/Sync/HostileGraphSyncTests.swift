import AsyncHTTPClient
import Foundation
import Logging
import MicrosoftCloud
import TenantSyncCore
import TenantSyncDaemon
import TenantSyncStore
import Testing
import TestSupport

/// A full sync against a Graph that misbehaves on purpose (a loopback server answering with
/// endless or looping next links, too many objects, a link to another host): the run ends
/// failed with a clear error, reads a bounded number of pages, and commits nothing as complete.
@Suite("Sync against a hostile Graph", .serialized, .timeLimit(.minutes(1)))
struct HostileGraphSyncTests {
    static let tenantID = "6f1c7a52-0000-4000-8000-00000000c0de"

    struct FixedToken: GraphTokenSource {
        func graphAccessToken(tenantID: String, forceRefresh: Bool) async throws -> Secret { Secret("fixed-access-token") }
    }

    /// Graph's answers except for the users listing, which `users` scripts from the request and its origin.
    static func graph(users: @escaping @Sendable (ScriptedHTTPServer.Request, String) -> ScriptedHTTPServer.Response) throws -> ScriptedHTTPServer {
        try ScriptedHTTPServer { request in
            let origin = "http://" + (request.headers["host"] ?? "127.0.0.1")
            if request.target.contains("/delta") {
                return .json(#"{"value":[],"@odata.deltaLink":"\#(origin)/v1.0/users/delta?$deltatoken=next"}"#)
            }
            if request.target.hasPrefix("/v1.0/users") { return users(request, origin) }
            return .json(#"{"value":[]}"#)
        }
    }

    /// A users page of `count` users numbered from `page`, with `nextLink` (JSON `null` when nil).
    static func usersPage(_ page: Int, count: Int = 1, nextLink: String?) -> ScriptedHTTPServer.Response {
        let users = (0..<count).map { #"{"id":"user-\#(page)-\#($0)","userPrincipalName":"u\#(page)x\#($0)@contoso.com"}"# }
        let link = nextLink.map { "\"\($0)\"" } ?? "null"
        return .json(#"{"value":[\#(users.joined(separator: ","))],"@odata.nextLink":\#(link)}"#)
    }

    /// The page number in `$skiptoken=N`, 0 for the first page.
    static func pageNumber(_ request: ScriptedHTTPServer.Request) -> Int {
        request.target.components(separatedBy: "$skiptoken=").dropFirst().first.flatMap { Int($0) } ?? 0
    }

    /// Runs one full sync against `server`; returns the error it threw, the run row and the stored users delta link.
    static func sync(
        against server: ScriptedHTTPServer, settings: DirectorySynchronizer.Settings = .init()
    ) async throws -> (error: (any Error)?, run: SyncRun?, usersLink: String?) {
        try await ContosoStore.with(tenantID: tenantID) { store, http in
            let synchronizer = DirectorySynchronizer(
                store: store, graph: GraphClient(graphRoot: server.origin, http: http, requestTimeout: .seconds(10), logger: Logger(label: "test")),
                tokens: FixedToken(), settings: settings, logger: Logger(label: "test")
            )
            var thrown: (any Error)?
            do {
                try await synchronizer.run(tenantID: tenantID, service: nil, trigger: .manual)
            } catch {
                thrown = error
            }
            let run = try await store.syncRuns(tenantID: tenantID, limit: 1).first
            let link = try await store.deltaLink(tenantID: tenantID, resource: "users")
            return (thrown, run, link)
        }
    }

    /// The checks every hostile run shares: failed with `message`, nothing committed as complete.
    static func expectFailedAndUncommitted(_ outcome: (error: (any Error)?, run: SyncRun?, usersLink: String?), message: String) {
        #expect(outcome.error is GraphError, "the sync must fail with a Graph error, got \(String(describing: outcome.error))")
        #expect(outcome.run?.state == .failed, "run state \(String(describing: outcome.run?.state))")
        #expect(outcome.run?.error?.contains(message) == true, "run error: \(String(describing: outcome.run?.error))")
        #expect(outcome.usersLink == nil, "a half-read directory must not store a delta link as if it were complete")
    }

    @Test func aNextLinkToItselfForeverEndsTheRunAfterTwoPages() async throws {
        let server = try Self.graph { request, origin in
            Self.usersPage(Self.pageNumber(request), nextLink: "\(origin)/v1.0/users?$skiptoken=1")
        }
        defer { server.stop() }
        let outcome = try await Self.sync(against: server)
        Self.expectFailedAndUncommitted(outcome, message: "a page already read in this listing")
        let userRequests = server.requests.filter { $0.target.hasPrefix("/v1.0/users?") }
        #expect(userRequests.count == 2, "the first page and the looping one, nothing more: \(userRequests.map(\.target))")
    }

    @Test func endlessNewNextLinksStopAtThePageBound() async throws {
        let server = try Self.graph { request, origin in
            let page = Self.pageNumber(request)
            return Self.usersPage(page, nextLink: "\(origin)/v1.0/users?$skiptoken=\(page + 1)")
        }
        defer { server.stop() }
        let outcome = try await Self.sync(against: server, settings: .init(maximumPagesPerRead: 25))
        Self.expectFailedAndUncommitted(outcome, message: "exceeded 25 pages")
        let userRequests = server.requests.filter { $0.target.hasPrefix("/v1.0/users?") }
        #expect(userRequests.count == 25, "the bound is 25 pages, read \(userRequests.count)")
    }

    @Test func aRunThatReadsMoreObjectsThanItsBudgetStops() async throws {
        let server = try Self.graph { request, origin in
            let page = Self.pageNumber(request)
            return Self.usersPage(page, count: 40, nextLink: "\(origin)/v1.0/users?$skiptoken=\(page + 1)")
        }
        defer { server.stop() }
        let outcome = try await Self.sync(against: server, settings: .init(maximumObjectsPerRun: 100))
        Self.expectFailedAndUncommitted(outcome, message: "more than 100 directory objects")
        let userRequests = server.requests.filter { $0.target.hasPrefix("/v1.0/users?") }
        #expect(userRequests.count <= 4, "100 objects are three pages of 40 (and one prefetched), read \(userRequests.count)")
    }

    @Test func aNextLinkToAnotherHostFailsTheRunAndNothingReachesIt() async throws {
        let foreign = try ScriptedHTTPServer { _ in .json(#"{"value":[]}"#) }
        defer { foreign.stop() }
        let server = try Self.graph { request, _ in
            Self.usersPage(Self.pageNumber(request), nextLink: "\(foreign.origin)/v1.0/users?$skiptoken=1")
        }
        defer { server.stop() }
        let outcome = try await Self.sync(against: server)
        Self.expectFailedAndUncommitted(outcome, message: "outside the configured Graph origin")
        #expect(foreign.requests.isEmpty, "the access token went to \(foreign.origin): \(foreign.requests.map(\.target))")
    }
}
