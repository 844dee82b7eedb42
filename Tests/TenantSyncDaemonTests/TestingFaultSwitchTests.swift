import Foundation
import Logging
import ServiceLifecycle
import Testing
@testable import TenantSyncDaemon
#if canImport(Glibc)
import Glibc
#endif

@Suite("Testing fault switch", .serialized)
struct TestingFaultSwitchTests {
    @Test func healthyUntilThrownThenTheHealthCheckHangsUntilCancelled() async throws {
        let faultSwitch = TestingFaultSwitch(logger: Logger(label: "test"))
        #expect(await faultSwitch.healthCheck())
        faultSwitch.trip()
        #expect(faultSwitch.isTripped)
        let check = Task { await faultSwitch.healthCheck() }
        // Still hanging after the task had ample chance to answer.
        try await Task.sleep(for: .milliseconds(300))
        check.cancel()
        #expect(await check.value == false)
    }

    @Test func sigusr1ThrowsTheSwitchInsideAServiceGroup() async throws {
        let logger = Logger(label: "test")
        let faultSwitch = TestingFaultSwitch(logger: logger)
        let group = ServiceGroup(services: [faultSwitch], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // The service traps SIGUSR1 once it runs; until then the signal's default would kill the test.
            var thrown = false
            for _ in 0..<200 where !thrown {
                try await Task.sleep(for: .milliseconds(20))
                if Self.sigusr1IsTrapped() {
                    kill(getpid(), SIGUSR1)
                    for _ in 0..<100 where !faultSwitch.isTripped { try await Task.sleep(for: .milliseconds(20)) }
                    thrown = true
                }
            }
            #expect(faultSwitch.isTripped)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// Whether this process currently ignores/handles SIGUSR1 instead of dying on it.
    static func sigusr1IsTrapped() -> Bool {
        var current = sigaction()
        sigaction(SIGUSR1, nil, &current)
        // SIG_DFL is the null handler; UnixSignalsSequence installs SIG_IGN plus a dispatch source.
        return current.__sigaction_handler.sa_handler != nil
    }
}
