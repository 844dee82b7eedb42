import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Systemd
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Tests that talk to a NOTIFY_SOCKET owned by the test. They set process-wide environment
/// variables (`NOTIFY_SOCKET`, `WATCHDOG_*`), hence one serialized suite.
@Suite(.serialized)
struct NotifierTests {
    @Test func readyStatusStoppingReachTheManagerSocket() throws {
        let socket = try NotifySocket()
        setenv("NOTIFY_SOCKET", socket.path, 1)
        defer { unsetenv("NOTIFY_SOCKET") }
        let notifier = SystemdNotifier()

        #expect(notifier.ready(status: "12 accounts: 11 healthy, 1 token invalid (contoso.com/exchange-online); next sync 02:13"))
        #expect(socket.receive() == "READY=1\nSTATUS=12 accounts: 11 healthy, 1 token invalid (contoso.com/exchange-online); next sync 02:13")
        #expect(notifier.status("syncing\nREADY=1"))
        #expect(socket.receive() == "STATUS=syncing READY=1", "a newline in a status must not inject a second assignment")
        #expect(notifier.stopping())
        #expect(socket.receive() == "STOPPING=1")
        #expect(notifier.extendTimeout(by: .seconds(90)))
        #expect(socket.receive() == "EXTEND_TIMEOUT_USEC=90000000")
        #expect(notifier.failed(errno: EADDRINUSE, status: "control socket in use"))
        #expect(socket.receive() == "STATUS=control socket in use\nERRNO=\(EADDRINUSE)")
        #expect(notifier.watchdogPing())
        #expect(socket.receive() == "WATCHDOG=1")
    }

    @Test func reloadingCarriesTheMonotonicTimeThenReady() throws {
        let socket = try NotifySocket()
        setenv("NOTIFY_SOCKET", socket.path, 1)
        defer { unsetenv("NOTIFY_SOCKET") }
        let notifier = SystemdNotifier()

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
        unsetenv("NOTIFY_SOCKET")
        let notifier = SystemdNotifier()
        #expect(!notifier.isSupervised)
        #expect(notifier.ready() == false)
    }

    @Test func watchdogConfigurationHonoursWatchdogPid() {
        setenv("WATCHDOG_USEC", "3000000", 1)
        setenv("WATCHDOG_PID", String(getpid()), 1)
        defer {
            unsetenv("WATCHDOG_USEC")
            unsetenv("WATCHDOG_PID")
        }
        #expect(WatchdogConfiguration.fromEnvironment() == WatchdogConfiguration(interval: .seconds(3)))
        #expect(WatchdogConfiguration.fromEnvironment()?.pingInterval == .milliseconds(1500))
        setenv("WATCHDOG_PID", String(getpid() + 1), 1)
        #expect(WatchdogConfiguration.fromEnvironment() == nil, "a watchdog meant for another process must be ignored")
        unsetenv("WATCHDOG_USEC")
        unsetenv("WATCHDOG_PID")
        #expect(WatchdogConfiguration.fromEnvironment() == nil)
    }

    @Test func watchdogPingsOnlyWhileTheHealthCheckPasses() async throws {
        let socket = try NotifySocket()
        setenv("NOTIFY_SOCKET", socket.path, 1)
        setenv("WATCHDOG_USEC", "200000", 1)
        defer {
            unsetenv("NOTIFY_SOCKET")
            unsetenv("WATCHDOG_USEC")
        }
        let configuration = try #require(WatchdogConfiguration.fromEnvironment())
        let healthy = Atomic<Bool>(true)
        let checks = Atomic<Int>(0)
        let service = WatchdogService(configuration: configuration, logger: Logger(label: "test.watchdog")) {
            checks.add(1, ordering: .relaxed)
            return healthy.load(ordering: .relaxed)
        }

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await service.run() }

            // 100 ms ping period: about 10 pings a second while healthy. Counted, not timed: a loaded
            // machine may be slower, so collect until three arrived (at most 10 s).
            var healthyPings: [String] = []
            for _ in 0..<10 where healthyPings.count < 3 {
                healthyPings += try await socket.receiveAll(for: .seconds(1))
            }
            #expect(healthyPings.count >= 3, "expected pings every 100 ms while healthy, got \(healthyPings.count)")
            #expect(healthyPings.allSatisfy { $0 == "WATCHDOG=1" }, "unexpected datagrams: \(healthyPings)")

            healthy.store(false, ordering: .relaxed)
            // Two checks after the switch: the second began after it, so no ping from a check that
            // still saw "healthy" can follow; then drop what was sent before.
            let checksAtSwitch = checks.load(ordering: .relaxed)
            while checks.load(ordering: .relaxed) < checksAtSwitch + 2 {
                try await Task.sleep(for: .milliseconds(20))
            }
            try await Task.sleep(for: .milliseconds(50))
            socket.drain()
            let checksBefore = checks.load(ordering: .relaxed)
            let unhealthyPings = try await socket.receiveAll(for: .milliseconds(600))
            #expect(unhealthyPings.isEmpty, "no ping may be sent while the health check fails, got \(unhealthyPings)")
            #expect(checks.load(ordering: .relaxed) > checksBefore, "the health check must keep being asked")

            healthy.store(true, ordering: .relaxed)
            var resumed: [String] = []
            for _ in 0..<10 where !resumed.contains("WATCHDOG=1") {
                resumed += try await socket.receiveAll(for: .seconds(1))
            }
            #expect(resumed.contains("WATCHDOG=1"), "pings must resume once the health check passes again")
            group.cancelAll()
        }
    }

    @Test func watchdogServiceEndsOnGracefulShutdown() async throws {
        let socket = try NotifySocket()
        setenv("NOTIFY_SOCKET", socket.path, 1)
        defer { unsetenv("NOTIFY_SOCKET") }
        let service = WatchdogService(configuration: WatchdogConfiguration(interval: .seconds(20)), logger: Logger(label: "test.watchdog")) { true }
        let group = ServiceGroup(services: [service], logger: Logger(label: "test.group"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(try await socket.next() == "WATCHDOG=1", "the first ping goes out at once")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}
