import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Systemd
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Tests that talk to a NOTIFY_SOCKET owned by the test. The environment is passed to the notifier and the
/// watchdog configuration explicitly: nothing here changes the shared test process's environment.
@Suite(.serialized)
struct NotifierTests {
    @Test func readyStatusStoppingReachTheManagerSocket() throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path])
        #expect(notifier.isSupervised)

        #expect(notifier.ready(status: "12 accounts: 11 healthy, 1 token invalid (contoso.com/exchange-online); next sync 02:13"))
        #expect(socket.receive() == "READY=1\nSTATUS=12 accounts: 11 healthy, 1 token invalid (contoso.com/exchange-online); next sync 02:13")
        #expect(notifier.status("syncing\nREADY=1"))
        #expect(socket.receive() == "STATUS=syncing READY=1", "a newline in a status must not inject a second assignment")
        #expect(notifier.stopping())
        #expect(socket.receive() == "STOPPING=1")
        #expect(notifier.failed(errno: EADDRINUSE, status: "control socket in use"))
        #expect(socket.receive() == "STATUS=control socket in use\nERRNO=\(EADDRINUSE)")
        #expect(notifier.watchdogPing())
        #expect(socket.receive() == "WATCHDOG=1")
    }

    @Test func anAbstractNotifySocketIsReached() throws {
        let name = "tenantsync-notify-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let socket = try NotifySocket(abstractName: name)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "@" + name])
        #expect(notifier.ready())
        #expect(socket.receive() == "READY=1", "an @name NOTIFY_SOCKET is an abstract-namespace socket")
    }

    @Test func reloadingCarriesTheMonotonicTimeThenReady() throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path])

        let before = SystemdNotifier.monotonicMicroseconds()
        #expect(notifier.reloading())
        let after = SystemdNotifier.monotonicMicroseconds()
        let message = try #require(socket.receive())
        let lines = message.split(separator: "\n").map(String.init)
        #expect(lines.first == "RELOADING=1")
        let stamp = try #require(lines.first { $0.hasPrefix("MONOTONIC_USEC=") }.flatMap { UInt64($0.dropFirst("MONOTONIC_USEC=".count)) })
        #expect(stamp >= before && stamp <= after, "MONOTONIC_USEC \(stamp) must be CLOCK_MONOTONIC at the time of sending")
        #expect(notifier.ready())
        #expect(socket.receive() == "READY=1")
    }

    @Test func withoutNotifySocketNothingIsSent() {
        for environment in [[:], ["NOTIFY_SOCKET": ""], ["NOTIFY_SOCKET": "relative/path"]] {
            let notifier = SystemdNotifier(environment: environment)
            #expect(!notifier.isSupervised, "\(environment)")
            #expect(notifier.ready() == false, "\(environment)")
        }
    }

    @Test func aNotifySocketNobodyListensOnReportsFailure() throws {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": NSTemporaryDirectory() + "tenantsync-no-such-\(UUID().uuidString.prefix(8)).sock"])
        #expect(notifier.isSupervised)
        #expect(notifier.ready() == false, "a send nobody received must not count as notified")
    }

    @Test func watchdogConfigurationHonoursWatchdogPid() {
        let pid = getpid()
        #expect(WatchdogConfiguration.fromEnvironment(["WATCHDOG_USEC": "3000000"], pid: pid) == WatchdogConfiguration(interval: .seconds(3)))
        let own = ["WATCHDOG_USEC": "3000000", "WATCHDOG_PID": String(pid)]
        #expect(WatchdogConfiguration.fromEnvironment(own, pid: pid) == WatchdogConfiguration(interval: .seconds(3)))
        #expect(WatchdogConfiguration.fromEnvironment(own, pid: pid)?.pingInterval == .milliseconds(1500))
        #expect(
            WatchdogConfiguration.fromEnvironment(["WATCHDOG_USEC": "3000000", "WATCHDOG_PID": String(pid + 1)], pid: pid) == nil,
            "a watchdog meant for another process must be ignored"
        )
        #expect(WatchdogConfiguration.fromEnvironment(["WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "x"], pid: pid) == nil)
        #expect(WatchdogConfiguration.fromEnvironment([:], pid: pid) == nil)
        #expect(WatchdogConfiguration.fromEnvironment(["WATCHDOG_USEC": "0"], pid: pid) == nil)
        #expect(WatchdogConfiguration.fromEnvironment(["WATCHDOG_USEC": "soon"], pid: pid) == nil)
    }

    @Test func watchdogPingsOnlyWhileTheHealthCheckPasses() async throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path])
        let configuration = try #require(WatchdogConfiguration.fromEnvironment(["WATCHDOG_USEC": "200000"], pid: getpid()))
        let healthy = Atomic<Bool>(true)
        let checks = Atomic<Int>(0)
        // A manual clock: each period is one advance, so every check and its ping are counted, never timed.
        let clock = ManualClock()
        let service = WatchdogService(configuration: configuration, notifier: notifier, clock: clock, logger: Logger(label: "test.watchdog")) {
            checks.add(1, ordering: .relaxed)
            return healthy.load(ordering: .relaxed)
        }
        /// Lets one period pass and returns once the service went back to sleep: its check ran and any ping
        /// was sent (a datagram is queued on the socket before the next sleep is asked for).
        func period() async throws {
            let sleeps = clock.requestedSleeps.count
            clock.advance(by: configuration.pingInterval)
            let slept = try await eventually(timeout: .seconds(10), "watchdog asleep again") { clock.requestedSleeps.count == sleeps + 1 }
            try #require(slept, "the watchdog loop did not come back to its sleep")
        }

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }
            let first = try await eventually(timeout: .seconds(10), "first sleep") { clock.requestedSleeps.count == 1 }
            try #require(first)
            #expect(clock.requestedSleeps == [.milliseconds(100)], "pings every half interval")
            #expect(socket.receive(timeout: .zero) == "WATCHDOG=1", "the first ping goes out at once")
            for _ in 0..<2 {
                try await period()
                #expect(socket.receive(timeout: .zero) == "WATCHDOG=1", "one ping per period while healthy")
            }
            #expect(socket.receive(timeout: .zero) == nil, "exactly one ping per period")

            healthy.store(false, ordering: .relaxed)
            let checksBefore = checks.load(ordering: .relaxed)
            for _ in 0..<3 {
                try await period()
                #expect(socket.receive(timeout: .zero) == nil, "no ping may be sent while the health check fails")
            }
            let checksAfter = checks.load(ordering: .relaxed)
            #expect(checksAfter == checksBefore + 3, "the health check must be asked every period")

            healthy.store(true, ordering: .relaxed)
            try await period()
            #expect(socket.receive(timeout: .zero) == "WATCHDOG=1", "pings resume once the health check passes again")
            group.cancelAll()
        }
    }

    @Test func watchdogServiceEndsOnGracefulShutdown() async throws {
        let socket = try NotifySocket()
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": socket.path])
        let service = WatchdogService(configuration: WatchdogConfiguration(interval: .seconds(20)), notifier: notifier, logger: Logger(label: "test.watchdog")) { true }
        let group = ServiceGroup(services: [service], logger: Logger(label: "test.group"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(try await socket.next() == "WATCHDOG=1", "the first ping goes out at once")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
