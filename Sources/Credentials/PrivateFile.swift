import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reads a file that holds key material, refusing one that another user could read or replace.
///
/// The checks are made on the open descriptor (`fstat`), so there is no window between the check
/// and the read in which the file could be swapped. Used for the secret-sealing key and for the
/// private key of a certificate credential: both must belong to the daemon's user and be closed to
/// group and others. A systemd credential (`$CREDENTIALS_DIRECTORY`) lives in a directory systemd
/// keeps private and is read with `requirePrivate: false`.
public enum PrivateFile {
    /// - Parameters:
    ///   - what: how the file is named in messages, e.g. "secret key file".
    ///   - maximumBytes: reading stops past this many bytes (a file that large is not what was asked for).
    public static func read(path: String, what: String, requirePrivate: Bool, maximumBytes: Int) throws(PrivateFileError) -> Data {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let missing = errno == ENOENT
            let reason = missing ? "does not exist" : "cannot be read (\(String(cString: strerror(errno))))"
            throw PrivateFileError(
                code: missing ? .missing : .unreadable, message: "The \(what) \(path) \(reason); check its owner and mode.",
                context: ["key.path": path]
            )
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw PrivateFileError(code: .notRegularFile, message: "The \(what) \(path) is not a regular file.", context: ["key.path": path])
        }
        if requirePrivate {
            let user = geteuid()
            if status.st_uid != user {
                throw PrivateFileError(
                    code: .owner,
                    message: "The \(what) \(path) belongs to uid \(status.st_uid), not to the daemon's user (uid \(user)); another user could replace the key. Run `chown \(user) \(path)` if the file is the right one.",
                    context: ["key.path": path, "reason": "owner", "key.uid": "\(status.st_uid)", "daemon.uid": "\(user)"]
                )
            }
            if status.st_mode & 0o077 != 0 {
                let mode = String(status.st_mode & 0o777, radix: 8)
                throw PrivateFileError(
                    code: .mode,
                    message: "The \(what) \(path) has mode \(mode): group or others may read or change it. Run `chmod 600 \(path)` and consider the key exposed to whoever could read it.",
                    context: ["key.path": path, "reason": "mode", "key.mode": mode]
                )
            }
        }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else {
                throw PrivateFileError(
                    code: .unreadable, message: "The \(what) \(path) cannot be read: \(String(cString: strerror(errno))).", context: ["key.path": path]
                )
            }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
            guard data.count <= maximumBytes else { break }
        }
        return data
    }
}
