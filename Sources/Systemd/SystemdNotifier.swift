import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// Sends service state to the service manager through `sd_notify(3)`.
///
/// Outside systemd (`NOTIFY_SOCKET` unset) every call is a cheap no-op that returns `false`.
/// `sd_notify` reads `NOTIFY_SOCKET` on every call, so the notifier holds no state.
public struct SystemdNotifier: Sendable {
    public init() {}

    /// Sends one or more `KEY=VALUE` lines; returns whether the manager received them.
    @discardableResult
    public func notify(_ lines: String...) -> Bool {
        send(lines)
    }

    /// Sends the given `KEY=VALUE` lines in one datagram; returns whether the manager received them.
    @discardableResult
    public func send(_ lines: [String]) -> Bool {
        let state = lines.map(Self.singleLine).joined(separator: "\n")
        return sd_notify(0, state) > 0
    }

    /// Tells the manager start-up is complete (`READY=1`), optionally with a status line.
    @discardableResult
    public func ready(status: String? = nil) -> Bool {
        send(["READY=1"] + (status.map { ["STATUS=\($0)"] } ?? []))
    }

    /// Updates the one-line status `systemctl status` shows (`STATUS=`).
    @discardableResult
    public func status(_ text: String) -> Bool {
        send(["STATUS=\(text)"])
    }

    /// Tells the manager the service is shutting down (`STOPPING=1`).
    @discardableResult
    public func stopping(status: String? = nil) -> Bool {
        send(["STOPPING=1"] + (status.map { ["STATUS=\($0)"] } ?? []))
    }

    /// Tells the manager a reload started (`RELOADING=1` with `MONOTONIC_USEC=`); send ``ready(status:)`` when done.
    ///
    /// systemd ≥ 253 requires `MONOTONIC_USEC` with `RELOADING=1` for `Type=notify-reload`.
    @discardableResult
    public func reloading(status: String? = nil) -> Bool {
        send(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())"] + (status.map { ["STATUS=\($0)"] } ?? []))
    }

    /// Asks for more time to start or stop (`EXTEND_TIMEOUT_USEC=`), e.g. before long shutdown work.
    @discardableResult
    public func extendTimeout(by duration: Duration) -> Bool {
        send(["EXTEND_TIMEOUT_USEC=\(Self.microseconds(duration))"])
    }

    /// Reports a fatal start-up error as an errno value (`ERRNO=`), optionally with a status line.
    @discardableResult
    public func failed(errno code: Int32, status: String? = nil) -> Bool {
        send((status.map { ["STATUS=\($0)"] } ?? []) + ["ERRNO=\(code)"])
    }

    /// Pings the watchdog (`WATCHDOG=1`).
    @discardableResult
    public func watchdogPing() -> Bool {
        send(["WATCHDOG=1"])
    }

    /// Whether `NOTIFY_SOCKET` names a manager socket for this process.
    public var isSupervised: Bool {
        getenv("NOTIFY_SOCKET") != nil
    }

    /// `CLOCK_MONOTONIC` in microseconds, the clock `MONOTONIC_USEC` is measured on.
    public static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }

    static func microseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) * 1_000_000 + UInt64(attoseconds / 1_000_000_000_000)
    }

    /// A status text with a newline would end the assignment early and inject another one.
    static func singleLine(_ line: String) -> String {
        guard line.contains(where: \.isNewline) else { return line }
        return String(line.map { $0.isNewline ? " " : $0 })
    }
}
