import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// TEST ONLY: on SIGUSR1 the daemon's health check hangs for good, so the systemd watchdog fires.
///
/// It exists so that the end-to-end test can prove that `WatchdogSec=` and
/// `Restart=on-failure` recover a hung daemon without losing data. The daemon
/// creates it only when `[daemon] testing_fault_switches = true` (documented as
/// test-only, off by default); otherwise SIGUSR1 is not trapped and nothing here runs.
public final class TestingFaultSwitch: Service, Sendable {
    private let tripped = Mutex(false)
    private let logger: Logger
    private let clock: any Clock<Duration>

    /// - Parameter clock: what the hang sleeps on between its cancellation checks (a manual clock in tests).
    public init(logger: Logger, clock: any Clock<Duration> = ContinuousClock()) {
        self.logger = logger
        self.clock = clock
    }

    /// Whether the switch has been thrown.
    public var isTripped: Bool { tripped.withLock { $0 } }

    /// Throws the switch: from now on ``healthCheck()`` never answers.
    public func trip() {
        let first = tripped.withLock { wasTripped in
            defer { wasTripped = true }
            return !wasTripped
        }
        if first {
            logger.critical("Testing fault switch thrown: the health check now hangs until the watchdog fires")
        }
    }

    public func run() async throws {
        logger.warning("Testing fault switches are on (test-only); SIGUSR1 hangs the health check")
        let signals = await UnixSignalsSequence(trapping: .sigusr1)
        for await _ in signals.cancelOnGracefulShutdown() {
            trip()
        }
    }

    /// The switch's part of the daemon's health: `true` until thrown, then a hang.
    ///
    /// The hang is a suspension, like a stuck database call, not a busy thread;
    /// it ends only when the awaiting task is cancelled, and then reports unhealthy.
    public func healthCheck() async -> Bool {
        guard isTripped else { return true }
        while !Task.isCancelled {
            try? await clock.sleep(for: .seconds(3_600))
        }
        return false
    }
}
