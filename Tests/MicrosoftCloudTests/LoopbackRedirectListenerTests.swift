import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
import TenantSyncCore
@testable import MicrosoftCloud

/// The daemon's loopback listener for authorization-code redirects, over real sockets on 127.0.0.1.
@Suite("Loopback redirect listener", .serialized)
struct LoopbackRedirectListenerTests {
    static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return logger
    }()

    static func get(_ url: String) async throws -> (Int, String) {
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 1 << 16)
            try await http.shutdown()
            return (Int(response.status.code), String(buffer: body))
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    @Test func aRedirectWithCodeAndTheRightStateIsDeliveredAndOtherPathsAreIgnored() async throws {
        let redirect = try await LoopbackRedirectListener.withListener(expectedState: "s1", logger: Self.logger) { listener in
            #expect(listener.redirectURI == "http://127.0.0.1:\(listener.port)/tenantsync/consent")
            let (status, _) = try await Self.get("http://127.0.0.1:\(listener.port)/favicon.ico")
            #expect(status == 404)
            let (okStatus, page) = try await Self.get(listener.redirectURI + "?code=abc%2Bdef&state=s1&session_state=z")
            #expect(okStatus == 200 && page.contains("Signed in"), "\(page)")
            return try await listener.next(timeout: .seconds(10))
        }
        #expect(redirect == .code(Secret("abc+def")))
    }

    @Test func aWrongOrMissingStateIsRefusedBeforeTheCodeIsLookedAt() async throws {
        let outcomes = try await LoopbackRedirectListener.withListener(expectedState: "expected", logger: Self.logger) { listener in
            let (status, page) = try await Self.get(listener.redirectURI + "?code=abc&state=other")
            #expect(status == 400 && page.contains("state parameter does not match"), "\(page)")
            let (missing, _) = try await Self.get(listener.redirectURI + "?code=abc")
            #expect(missing == 400)
            return [try await listener.next(timeout: .seconds(10)), try await listener.next(timeout: .seconds(10))]
        }
        #expect(outcomes == [.stateMismatch, .stateMismatch])
    }

    @Test func errorAndAdminConsentRedirectsAreReportedAsSuch() async throws {
        let outcomes = try await LoopbackRedirectListener.withListener(expectedState: "s", logger: Self.logger) { listener in
            _ = try await Self.get(listener.redirectURI + "?error=access_denied&error_subcode=cancel&error_description=AADSTS65004%3A%20User%20declined.&state=s")
            _ = try await Self.get(listener.redirectURI + "?admin_consent=True&tenant=t-1&state=s")
            _ = try await Self.get(listener.redirectURI + "?state=s")
            return [try await listener.next(timeout: .seconds(10)), try await listener.next(timeout: .seconds(10)), try await listener.next(timeout: .seconds(10))]
        }
        #expect(outcomes == [
            .error(error: "access_denied", description: "AADSTS65004: User declined.", subcode: "cancel"), .adminConsent(tenant: "t-1"), .malformed,
        ])
    }

    @Test func withoutARedirectTheWaitEndsAtTheTimeoutAndThePortIsClosedAfter() async throws {
        let (outcome, port) = try await LoopbackRedirectListener.withListener(expectedState: "s", logger: Self.logger) { listener in
            #expect(acceptsConnections(port: listener.port), "the listener is open while the consent is pending")
            return (try await listener.next(timeout: .milliseconds(200)), listener.port)
        }
        #expect(outcome == nil)
        // The close completes on the event loop; give a loaded machine a few seconds to finish it.
        let closed = try await eventually(timeout: .seconds(5), "listener closed") { !acceptsConnections(port: port) }
        #expect(closed, "the listener still accepts connections after it was closed")
    }

    @Test func theListenerServesABoundedNumberOfRequests() async throws {
        try await LoopbackRedirectListener.withListener(expectedState: "s", maximumRequests: 2, logger: Self.logger) { listener in
            let first = try await Self.get(listener.redirectURI + "/x").0
            let second = try await Self.get(listener.redirectURI + "/y").0
            #expect(first == 404 && second == 404)
            // Past the budget a connection is closed unanswered.
            await #expect(throws: (any Error).self, "a third request was served") { _ = try await Self.get(listener.redirectURI + "?code=a&state=s") }
        }
    }
}
