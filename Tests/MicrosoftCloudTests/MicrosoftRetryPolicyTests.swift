import AsyncHTTPClient
import Foundation
import Logging
import Synchronization
import Testing
import TenantSyncCore
import TestSupport
@testable import MicrosoftCloud

/// One retry policy for Graph and the Exchange admin API: `Retry-After` is honoured (and capped), waits
/// are slept on the injected clock, changing cmdlets are never retried. Real HTTP from a scripted loopback
/// server; time from a manual clock, so every wait is measured exactly, never on the wall.
@Suite("Microsoft retry policy", .serialized)
struct MicrosoftRetryPolicyTests {
    static let token = Secret("eyJ0eXAi.retry-test-token")

    /// A server answering each request with the next of `answers` (the last one for ever after).
    static func server(_ answers: [ScriptedHTTPServer.Response]) throws -> ScriptedHTTPServer {
        let next = Mutex(0)
        return try ScriptedHTTPServer { _ in
            let index = next.withLock { index in defer { index += 1 }; return index }
            return answers[min(index, answers.count - 1)]
        }
    }

    /// Waits (real IO: an HTTP answer arrives) until `count` sleeps were asked of the clock and one is pending.
    static func sleeps(_ clock: ManualClock, count: Int) async throws -> [Duration] {
        let reached = try await eventually("the client sleeps for the \(count). time") {
            clock.requestedSleeps.count == count && clock.sleeperCount == 1
        }
        #expect(reached, "the client never slept a \(count). time; sleeps so far: \(clock.requestedSleeps)")
        return clock.requestedSleeps
    }

    @Test("Exchange admin: a Get- cmdlet answered 429 and 503 waits out each Retry-After on the injected clock")
    func exchangeHonoursRetryAfter() async throws {
        let server = try Self.server([
            .init(status: 429, headers: [("Retry-After", "7")]),
            .init(status: 503, headers: [("Retry-After", "3")]),
            .json(#"{"value":[{"Name":"In","Enabled":true}]}"#),
        ])
        defer { server.stop() }
        let http = HTTPClient.shared
        let clock = ManualClock()
        let exchange = ExchangeAdminClient(outlookRoot: server.origin, http: http, clock: clock, logger: Logger(label: "test"))

        try await withThrowingTaskGroup(of: [ExchangeObject].self) { group in
            group.addTask { try await exchange.invoke(tenantID: "t1", cmdlet: "Get-InboundConnector", accessToken: Self.token) }
            let firstWaits = try await Self.sleeps(clock, count: 1)
            #expect(firstWaits == [.seconds(7)], "the first wait is the 429's Retry-After")
            clock.advance(by: .seconds(7))
            let bothWaits = try await Self.sleeps(clock, count: 2)
            #expect(bothWaits == [.seconds(7), .seconds(3)], "the second wait is the 503's Retry-After")
            clock.advance(by: .seconds(3))
            let objects = try #require(try await group.next())
            #expect(objects.map(\.name) == ["In"])
        }
        #expect(server.requests.count == 3)
    }

    @Test("Exchange admin: a Retry-After beyond the cap waits the cap, not what the server asked")
    func exchangeCapsRetryAfter() async throws {
        let server = try Self.server([.init(status: 429, headers: [("Retry-After", "86400")]), .json(#"{"value":[]}"#)])
        defer { server.stop() }
        let http = HTTPClient.shared
        let clock = ManualClock()
        let exchange = ExchangeAdminClient(
            outlookRoot: server.origin, http: http, maximumRetryAfter: .seconds(90), clock: clock, logger: Logger(label: "test")
        )
        try await withThrowingTaskGroup(of: [ExchangeObject].self) { group in
            group.addTask { try await exchange.invoke(tenantID: "t1", cmdlet: "Get-TransportRule", accessToken: Self.token) }
            let waits = try await Self.sleeps(clock, count: 1)
            #expect(waits == [.seconds(90)])
            clock.advance(by: .seconds(90))
            let objects = try await group.next()
            #expect(objects == [])
        }
    }

    @Test("Exchange admin: a changing cmdlet answered 429 is not retried (a lost answer must not create an object twice)")
    func exchangeDoesNotRetryChangingCmdlets() async throws {
        let server = try Self.server([.init(status: 429, headers: [("Retry-After", "1")]), .json(#"{"value":[]}"#)])
        defer { server.stop() }
        let http = HTTPClient.shared
        let clock = ManualClock()
        let exchange = ExchangeAdminClient(outlookRoot: server.origin, http: http, clock: clock, logger: Logger(label: "test"))
        let error = await #expect(throws: ExchangeAdminError.self) {
            try await exchange.invoke(tenantID: "t1", cmdlet: "New-InboundConnector", parameters: ["Name": .string("In")], accessToken: Self.token)
        }
        #expect(error?.status == 429 && error?.retryAfter == .seconds(1))
        #expect(server.requests.count == 1 && clock.requestedSleeps.isEmpty)
    }

    @Test("Graph: an unpaced 429 with Retry-After waits it out on the injected clock, then reads the page")
    func graphHonoursRetryAfter() async throws {
        let server = try Self.server([.init(status: 429, headers: [("Retry-After", "11")]), .json(#"{"value":[{"id":"u1"}]}"#)])
        defer { server.stop() }
        let http = HTTPClient.shared
        let clock = ManualClock()
        let graph = GraphClient(graphRoot: server.origin, http: http, clock: clock, logger: Logger(label: "test"))
        struct Item: Decodable, Sendable { var id: String }
        try await withThrowingTaskGroup(of: [String].self) { group in
            group.addTask { try await graph.page(graph.url("/users"), as: Item.self, accessToken: Self.token).value.map(\.id) }
            let waits = try await Self.sleeps(clock, count: 1)
            #expect(waits == [.seconds(11)])
            clock.advance(by: .seconds(11))
            let ids = try await group.next()
            #expect(ids == ["u1"])
        }
    }

    @Test("The policy: Retry-After wins over backoff, both are capped, attempts are bounded, permanent errors are not retried")
    func policyArithmetic() async throws {
        let policy = MicrosoftRetryPolicy(maximumAttempts: 3, maximumRetryAfter: .seconds(30))
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(4), random: 1) == .seconds(4))
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(400), random: 0) == .seconds(30))
        #expect(policy.delay(afterAttempt: 1, retryAfter: nil, random: 0) == .milliseconds(500))
        #expect(policy.delay(afterAttempt: 3, retryAfter: nil, random: 1) == .milliseconds(3000))
        #expect(policy.delay(afterAttempt: 20, retryAfter: nil, random: 0) == .seconds(30), "backoff is capped too")
        #expect(MicrosoftRetryPolicy.isTransient(status: nil) && MicrosoftRetryPolicy.isTransient(status: 429))
        #expect(MicrosoftRetryPolicy.isTransient(status: 503) && !MicrosoftRetryPolicy.isTransient(status: 404))

        struct Failed: Error { var transient: Bool }
        let clock = ManualClock()
        let calls = Mutex(0)
        await #expect(throws: Failed.self) {
            try await policy.run(on: clock, classify: { ($0 as? Failed)?.transient == true ? .transientWaitedElsewhere : .permanent }) {
                calls.withLock { $0 += 1 }
                throw Failed(transient: true)
            }
        }
        #expect(calls.withLock { $0 } == 3, "three attempts, then the last error")
        calls.withLock { $0 = 0 }
        await #expect(throws: Failed.self) {
            try await policy.run(on: clock, classify: { ($0 as? Failed)?.transient == true ? .transient(retryAfter: nil) : .permanent }) {
                calls.withLock { $0 += 1 }
                throw Failed(transient: false)
            }
        }
        #expect(calls.withLock { $0 } == 1, "a permanent failure is thrown at once")
        #expect(clock.requestedSleeps.isEmpty, "a wait already done elsewhere is not slept again")
    }
}
