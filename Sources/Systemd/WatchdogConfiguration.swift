#if canImport(Glibc)
import Glibc
#endif

/// The watchdog interval systemd asked for (`WatchdogSec=`), read from `WATCHDOG_USEC` as `sd_watchdog_enabled(3)` does.
public struct WatchdogConfiguration: Sendable, Equatable {
    /// The interval within which systemd expects `WATCHDOG=1`.
    public var interval: Duration

    public init(interval: Duration) {
        self.interval = interval
    }

    /// How often to ping: half the interval, as `sd_watchdog_enabled(3)` recommends.
    public var pingInterval: Duration { interval / 2 }

    /// The watchdog systemd configured for this process, or `nil` when it is off.
    ///
    /// `WATCHDOG_USEC` is honoured only when `WATCHDOG_PID` is unset or names this process.
    /// - Parameters:
    ///   - environment: where `WATCHDOG_USEC` and `WATCHDOG_PID` are read from; the process environment by default.
    ///   - pid: this process's id, compared with `WATCHDOG_PID`.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessEnvironment.current(), pid: pid_t = getpid()
    ) -> WatchdogConfiguration? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let owner = environment["WATCHDOG_PID"] {
            // A malformed or foreign WATCHDOG_PID means the watchdog is meant for another process.
            guard let ownerPID = pid_t(owner), ownerPID == pid else { return nil }
        }
        return WatchdogConfiguration(interval: .microseconds(Int64(clamping: usec)))
    }
}
