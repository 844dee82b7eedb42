#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The file-system side of the control socket: stale-file handling and permissions.
enum ControlSocketFile {
    /// Makes `path` free for a new socket.
    ///
    /// A socket file left by a crashed daemon (nobody accepts connections on
    /// it) is removed; a live socket or any other kind of file is an error, so
    /// a second daemon never steals the socket of a running one.
    static func prepare(path: String) throws(ControlServerError) {
        var info = stat()
        if lstat(path, &info) != 0 {
            let code = errno
            if code == ENOENT { return }
            throw ControlServerError(.socketUnavailable, "cannot inspect the control socket path", path: path, errno: code)
        }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw ControlServerError(.socketUnavailable, "the control socket path exists and is not a socket; remove it or configure another path", path: path)
        }
        switch probe(path: path) {
        case .listening:
            throw ControlServerError(.alreadyRunning, "another tenantsyncd is running on the control socket", path: path)
        case .stale:
            if unlink(path) != 0, errno != ENOENT {
                throw ControlServerError(.socketUnavailable, "cannot remove the stale control socket", path: path, errno: errno)
            }
        case .failed(let code):
            throw ControlServerError(.socketUnavailable, "cannot probe the existing control socket", path: path, errno: code)
        }
    }

    enum Probe: Equatable {
        case listening
        case stale
        case failed(Int32)
    }

    /// Connects to the socket without blocking to learn whether anyone listens.
    static func probe(path: String) -> Probe {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failed(errno) }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return .failed(ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if result == 0 { return .listening }
        switch errno {
        case ECONNREFUSED: return .stale
        // A full backlog still means a live listener.
        case EAGAIN, EINPROGRESS: return .listening
        case let code: return .failed(code)
        }
    }

    /// Gives the socket mode 0660 and, if the control group exists, that group.
    static func restrict(path: String, groupName: String?) throws(ControlServerError) {
        if let groupName, let gid = ControlAccessPolicy.groupID(named: groupName) {
            // Under systemd (Group=tenantsync) the new socket already has the group; skipping
            // the call matters because the unit's SystemCallFilter=~@privileged refuses chown.
            var status = stat()
            let alreadyOwned = stat(path, &status) == 0 && status.st_gid == gid
            if !alreadyOwned, chown(path, uid_t.max, gid) != 0 {
                throw ControlServerError(.socketUnavailable, "cannot give the control socket to the control group", path: path, errno: errno)
            }
        }
        if chmod(path, 0o660) != 0 {
            throw ControlServerError(.socketUnavailable, "cannot set the control socket's mode", path: path, errno: errno)
        }
    }
}
