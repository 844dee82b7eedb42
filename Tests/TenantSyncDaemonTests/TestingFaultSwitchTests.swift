import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Testing
import TestSupport
@testable import TenantSyncDaemon
#if canImport(Glibc)
import Glibc
#endif

@Suite("Testing fault switch", .serialized)
struct TestingFaultSwitchTests {
    @Test func healthyUntilThrownThenTheHealthCheckHangsUntilCancelled() async throws {
        // The hang sleeps on a manual clock: the test sees it suspended, lets hours pass, and sees it suspend
        // again instead of answering, all without waiting on real time.
        let clock = ManualClock()
        let faultSwitch = TestingFaultSwitch(logger: Logger(label: "test"), clock: clock)
        #expect(await faultSwitch.healthCheck())
        #expect(clock.requestedSleeps.isEmpty, "a healthy check answers at once")
        faultSwitch.trip()
        #expect(faultSwitch.isTripped)
        let answered = Atomic<Bool>(false)
        let check = Task {
            let healthy = await faultSwitch.healthCheck()
            answered.store(true, ordering: .sequentiallyConsistent)
            return healthy
        }
        let suspended = try await eventually(timeout: .seconds(10), "check suspended") { clock.sleeperCount == 1 }
        try #require(suspended, "a check after the trip must suspend")
        for hour in 1...3 {
            clock.advance(by: .seconds(3_600))
            // It went back to sleep: that iteration did not return.
            let again = try await eventually(timeout: .seconds(10), "check suspended again") { clock.requestedSleeps.count == hour + 1 }
            try #require(again, "after \(hour) h the check must still hang")
            let hasAnswered = answered.load(ordering: .sequentiallyConsistent)
            #expect(!hasAnswered, "the tripped check answered after \(hour) h")
        }
        check.cancel()
        #expect(await check.value == false, "a cancelled hang reports unhealthy")
    }

    @Test func sigusr1ThrowsTheSwitchInsideAServiceGroup() async throws {
        let logger = Logger(label: "test")
        let faultSwitch = TestingFaultSwitch(logger: logger)
        let group = ServiceGroup(services: [faultSwitch], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // The service traps SIGUSR1 once it runs; until then the signal's default would kill the test.
            let trapped = try await eventually(timeout: .seconds(10), "SIGUSR1 trapped") { Self.sigusr1IsTrapped() }
            try #require(trapped, "the running switch must trap SIGUSR1")
            #expect(!faultSwitch.isTripped)
            kill(getpid(), SIGUSR1)
            let tripped = try await eventually(timeout: .seconds(10), "switch tripped") { faultSwitch.isTripped }
            #expect(tripped, "SIGUSR1 must throw the switch")
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
