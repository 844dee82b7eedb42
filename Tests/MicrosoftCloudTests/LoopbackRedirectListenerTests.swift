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

    @Test func redirectsWithAWrongOrMissingStateAreRefusedAndCountedAndTheRightOneIsStillTaken() async throws {
        // Forty forged redirects (more than any fixed request budget would allow) cannot end the administrator's consent.
        let (redirect, refused) = try await LoopbackRedirectListener.withListener(expectedState: "expected", logger: Self.logger) { listener in
            for index in 0..<40 {
                let query = index.isMultiple(of: 2) ? "?code=abc&state=other-\(index)" : "?code=abc"
                let (status, page) = try await Self.get(listener.redirectURI + query)
                #expect(status == 400 && page.contains("state parameter does not match"), "\(status) \(page)")
            }
            let (status, page) = try await Self.get(listener.redirectURI + "?code=the-admins&state=expected")
            #expect(status == 200 && page.contains("Signed in"), "\(page)")
            return (try await listener.next(timeout: .seconds(10)), listener.refusedRedirects)
        }
        #expect(redirect == .code(Secret("the-admins")), "a refused redirect reached the caller or ended the wait")
        #expect(refused == 40)
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

    @Test func connectionsBeyondTheLimitAreClosedUnansweredWhileTheOthersAreOpen() async throws {
        try await LoopbackRedirectListener.withListener(expectedState: "s", maximumConnections: 2, logger: Self.logger) { listener in
            let first = try LoopbackTCPConnection(port: listener.port)
            let second = try LoopbackTCPConnection(port: listener.port)
            // Accepted connections are admitted on the event loop each lands on, not in connect order: wait until
            // the first two are admitted, or the third could be admitted before one of them.
            let admitted = try await eventually(timeout: .seconds(10), "two connections admitted") { listener.openConnections == 2 }
            #expect(admitted, "\(listener.openConnections) connections admitted")
            await #expect(throws: (any Error).self, "a third connection was served") { _ = try await Self.get(listener.redirectURI + "?code=a&state=s") }
            withExtendedLifetime((first, second)) {}
        }
    }

    @Test func aConnectionThatSendsNothingOrHalfARequestIsClosedAtTheReadTimeout() async throws {
        try await LoopbackRedirectListener.withListener(expectedState: "s", readTimeout: .milliseconds(300), logger: Self.logger) { listener in
            let silent = try LoopbackTCPConnection(port: listener.port)
            let half = try LoopbackTCPConnection(port: listener.port)
            half.send("GET /tenantsync/consent?state=")
            let closed = try await offThread { (silent.waitForClose(within: .seconds(10)), half.waitForClose(within: .seconds(10))) }
            #expect(closed.0, "a connection that sent nothing was still open 10 s after a 300 ms read timeout")
            #expect(closed.1, "a connection that sent half a request was still open 10 s after a 300 ms read timeout")
        }
    }

    @Test func connectionsStillOpenAreClosedWithTheListener() async throws {
        let open = try await LoopbackRedirectListener.withListener(expectedState: "s", readTimeout: .seconds(600), logger: Self.logger) { listener in
            let connection = try LoopbackTCPConnection(port: listener.port)
            connection.send("GET /tenantsync/consent?state=s")
            // Connections are accepted in order: once a later one is answered, this one was accepted (not merely
            // queued in the kernel, where closing the listening socket alone would reset it).
            let (status, _) = try await Self.get("http://127.0.0.1:\(listener.port)/favicon.ico")
            #expect(status == 404)
            return connection
        }
        let closed = try await offThread { open.waitForClose(within: .seconds(10)) }
        #expect(closed, "a connection outlived the listener")
    }
}
