import CSystemd

/// The watchdog interval systemd asked for (`WatchdogSec=`), read with `sd_watchdog_enabled(3)`.
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
    public static func fromEnvironment() -> WatchdogConfiguration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return WatchdogConfiguration(interval: .microseconds(Int64(clamping: usec)))
    }
}
