@testable import ControlPlane
import Foundation
import NIOPosix
import Synchronization
import TenantSyncCore
import Testing
import TestSupport

/// What the control server does with peers that are refused, stop reading, or whose access check is slow.
@Suite(.serialized)
struct ControlServerHardeningTests {
    /// Waits (polling the server's own count) until it serves `count` connections; false after `limit`.
    static func waitForOpenConnections(_ server: ControlServer, _ count: Int, within limit: Duration = .seconds(20)) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if server.openConnections == count { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return server.openConnections == count
    }

    @Test("a refused peer gets PermissionDenied and is then disconnected")
    func refusedPeerIsDisconnected() async throws {
        // The idle timer runs on a clock that never moves: only the refusal can end the connection.
        try await ControlServerHarness.withServer(clock: ManualClock(), authorize: { _ in false }) { path, server in
            try await VarlinkClient.withConnection(to: path) { client in
                try await client.sendRaw(Array(#"{"method":"io.tenantsync.Control.Status"}"#.utf8))
                let reply = try #require(try await client.receiveRaw(), "no reply to the refused call")
                #expect(String(decoding: reply, as: UTF8.self).contains("io.tenantsync.Control.PermissionDenied"))
                let closed = try await Self.waitForOpenConnections(server, 0)
                #expect(closed, "the refused peer's connection stayed open")
                // Read on only once closed: on an open connection the read would wait for ever (the clock never moves).
                if closed {
                    let after = try await client.receiveRaw()
                    #expect(after == nil, "the server sent more after the refusal")
                }
            }
        }
    }

    @Test("a streaming call whose client stops reading is dropped after the write timeout")
    func nonReadingStreamIsDropped() async throws {
        /// Streams 16 KiB progress replies until a send fails, then reports how the call ended.
        struct Firehose: PartialControlHandler {
            let ended: AsyncStream<String>.Continuation
            func sync(_ request: SyncRequest, context: ControlContext, updates: ControlUpdates<SyncProgress>) async throws -> SyncProgress {
                let run = SyncRun(
                    id: 5, tenantID: "t", service: nil, trigger: .manual, mode: .delta, state: .running, startedAt: Date(), finishedAt: nil, pages: 1,
                    counts: DirectoryChangeCounts(), error: String(repeating: "x", count: 16_384)
                )
                do {
                    while true { try await updates.send(SyncProgress(run: SyncRunInfo(run), done: false)) }
                } catch {
                    ended.yield(String(describing: type(of: error)))
                    throw error
                }
            }
        }
        let (ended, endedContinuation) = AsyncStream<String>.makeStream()
        try await ControlServerHarness.withServer(handler: Firehose(ended: endedContinuation), configure: { $0.writeTimeout = .milliseconds(500) }) { path, server in
            try await VarlinkClient.withConnection(to: path) { client in
                // The call, and then not one byte read.
                try await client.sendRaw(Array(#"{"method":"io.tenantsync.Control.Sync","parameters":{"tenant":"contoso.example"},"more":true}"#.utf8))
                let outcome = await withTaskGroup(of: String?.self) { group in
                    group.addTask { await ended.first { _ in true } }
                    group.addTask {
                        try? await Task.sleep(for: .seconds(20))
                        return nil
                    }
                    let first = await group.next() ?? nil
                    group.cancelAll()
                    return first
                }
                #expect(outcome == String(describing: ReplyWriteTimeout.Expired.self), "the call writing to a client that does not read was not ended: \(String(describing: outcome))")
                #expect(try await Self.waitForOpenConnections(server, 0), "the connection of the client that stopped reading stayed open")
            }
        }
    }

    @Test("access checks (NSS lookups) run off the cooperative pool: blocked ones do not stall other async work")
    func accessChecksDoNotBlockTheCooperativePool() async throws {
        let width = ProcessInfo.processInfo.activeProcessorCount
        let gate = AccessGate()
        // A pool with room for every blocked check, so the fixed server never runs short of threads here.
        let pool = NIOThreadPool(numberOfThreads: width + 1)
        pool.start()
        let probeRan = try await ControlServerHarness.withServer(authorize: { _ in gate.enterAndWait() }, blockingPool: pool) { path, _ in
            try await withThrowingTaskGroup(of: Void.self) { clients in
                for _ in 0...width {
                    clients.addTask {
                        try await VarlinkClient.withConnection(to: path) { client in
                            let info: VarlinkServiceInfo = try await client.call("org.varlink.service.GetInfo", parameters: VarlinkEmpty())
                            #expect(info.version == "9.9.9")
                        }
                    }
                }
                // On a thread of its own: with every cooperative thread blocked, nothing async could report back.
                let ran = try await offThread { gate.probeWhileBlocked(checks: width) }
                try await clients.waitForAll()
                return ran
            }
        }
        try await pool.shutdownGracefully()
        #expect(probeRan, "with \(width) access checks blocked, a task on the cooperative pool could not run")
    }
}

/// Blocks access checks until the probe has run; counts how many are blocked.
final class AccessGate: Sendable {
    private let entered = DispatchSemaphore(value: 0)
    private let released = Mutex(false)
    private let release = DispatchSemaphore(value: 0)

    /// The access check: blocks until released.
    func enterAndWait() -> Bool {
        entered.signal()
        if released.withLock({ $0 }) { return true }
        release.wait()
        release.signal()
        return true
    }

    /// Blocking: waits until `checks` access checks are blocked, then starts a task on the cooperative pool and
    /// waits 5 s for it to run; releases every check either way. Returns whether the task ran.
    func probeWhileBlocked(checks: Int) -> Bool {
        var reached = true
        for _ in 0..<checks where entered.wait(timeout: .now() + 20) == .timedOut {
            reached = false
        }
        let ran = DispatchSemaphore(value: 0)
        Task.detached { ran.signal() }
        let didRun = ran.wait(timeout: .now() + 5) == .success
        released.withLock { $0 = true }
        release.signal()
        return reached && didRun
    }
}
