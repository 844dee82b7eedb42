#if canImport(Glibc)
import Glibc
#endif

/// Sends service state to the service manager over the `sd_notify(3)` protocol.
///
/// Outside systemd (`NOTIFY_SOCKET` unset) every call is a cheap no-op that returns `false`.
/// The socket is taken from the environment given at creation, not read from the process
/// on every call as `sd_notify` does, so a test (or a daemon whose environment is narrowed
/// later) passes it explicitly and nothing changes process-wide state.
public struct SystemdNotifier: Sendable {
    /// The manager's socket from `NOTIFY_SOCKET`: a path, or `@name` for the abstract namespace.
    public let socketAddress: String?

    /// - Parameter environment: where `NOTIFY_SOCKET` is read from; the process environment by default.
    public init(environment: [String: String] = ProcessEnvironment.current()) {
        let value = environment["NOTIFY_SOCKET"]
        // An empty or relative value is not a socket sd_notify would use either.
        if let value, value.hasPrefix("/") || value.hasPrefix("@") {
            socketAddress = value
        } else {
            socketAddress = nil
        }
    }

    /// Sends one or more `KEY=VALUE` lines; returns whether the manager received them.
    @discardableResult
    public func notify(_ lines: String...) -> Bool {
        send(lines)
    }

    /// Sends the given `KEY=VALUE` lines in one datagram; returns whether the manager received them.
    @discardableResult
    public func send(_ lines: [String]) -> Bool {
        guard let socketAddress else { return false }
        let state = lines.map(Self.singleLine).joined(separator: "\n")
        return Self.sendDatagram(Array(state.utf8), to: socketAddress)
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
        socketAddress != nil
    }

    /// One datagram to the manager's `AF_UNIX` socket, as `sd_notify` sends it (no credentials or fds attached).
    static func sendDatagram(_ payload: [UInt8], to socketAddress: String) -> Bool {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketAddress.utf8)
        let abstract = pathBytes.first == UInt8(ascii: "@")
        // The abstract namespace is spelled with a leading NUL in the address.
        if abstract { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            if !abstract { raw[pathBytes.count] = 0 }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + (abstract ? 0 : 1))
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let sent = payload.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), $0, length)
                }
            }
        }
        return sent == payload.count
    }

    /// `CLOCK_MONOTONIC` in microseconds, the clock `MONOTONIC_USEC` is measured on.
    public static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }

    /// A status text with a newline would end the assignment early and inject another one.
    static func singleLine(_ line: String) -> String {
        guard line.contains(where: \.isNewline) else { return line }
        return String(line.map { $0.isNewline ? " " : $0 })
    }
}
