import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket owned by the test that plays the service manager's `NOTIFY_SOCKET`.
final class NotifySocket {
    let path: String
    private let fd: Int32

    /// A socket at a fresh path in the temporary directory, or, given `abstractName`, in the abstract namespace.
    init(abstractName: String? = nil) throws {
        path = abstractName.map { "@" + $0 } ?? NSTemporaryDirectory() + "tenantsync-notify-\(UUID().uuidString.prefix(8)).sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno)!) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if abstractName != nil { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            if abstractName == nil { raw[bytes.count] = 0 }
        }
        let length = abstractName == nil ? socklen_t(MemoryLayout<sockaddr_un>.size) : socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard result == 0 else { throw POSIXError(.init(rawValue: errno)!) }
    }

    deinit {
        close(fd)
        if !path.hasPrefix("@") { unlink(path) }
    }

    /// The next datagram, or `nil` if none arrives within `timeout`.
    func receive(timeout: Duration = .seconds(2)) -> String? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        guard poll(&poller, 1, milliseconds) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count], as: UTF8.self)
    }

    /// The next datagram within `timeout`, polling without blocking a cooperative thread.
    func next(timeout: Duration = .seconds(5)) async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let message = receive(timeout: .zero) { return message }
            try await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }
}
