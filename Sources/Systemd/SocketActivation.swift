import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// Sockets passed in by systemd socket activation (`LISTEN_FDS`), read with `sd_listen_fds_with_names(3)`.
public enum SocketActivation {
    /// One socket systemd passed: its descriptor and its `FileDescriptorName=` (systemd says `unknown` when unnamed).
    public struct ListenedSocket: Sendable, Equatable {
        public var fileDescriptor: Int32
        public var name: String

        public init(fileDescriptor: Int32, name: String) {
            self.fileDescriptor = fileDescriptor
            self.name = name
        }
    }

    /// An error reading the passed sockets (`LISTEN_FDS` malformed, or a descriptor that is not open).
    public struct Error: Swift.Error, Sendable, CustomStringConvertible {
        public var errno: Int32
        public var description: String { "Reading the sockets passed by systemd (LISTEN_FDS) failed: \(String(cString: strerror(errno)))." }
    }

    /// The sockets passed to this process, in order; empty when not socket-activated.
    ///
    /// The descriptors are marked close-on-exec. With `unsetEnvironment` the `LISTEN_*`
    /// variables are removed, so child processes (hooks) do not inherit them.
    public static func listenedSockets(unsetEnvironment: Bool = true) throws -> [ListenedSocket] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        let count = sd_listen_fds_with_names(unsetEnvironment ? 1 : 0, &names)
        guard count >= 0 else { throw Error(errno: -count) }
        defer {
            if let names {
                for index in 0..<Int(count) { free(names[index]) }
                free(names)
            }
        }
        return (0..<count).map { index in
            let name = names.flatMap { $0[Int(index)] }.map { String(cString: $0) } ?? "unknown"
            return ListenedSocket(fileDescriptor: SD_LISTEN_FDS_START + index, name: name)
        }
    }

    /// The passed socket with the given `FileDescriptorName=`, or the only one when unnamed.
    public static func socket(named name: String, in sockets: [ListenedSocket]) -> ListenedSocket? {
        sockets.first { $0.name == name } ?? (sockets.count == 1 && sockets[0].name == "unknown" ? sockets[0] : nil)
    }
}
