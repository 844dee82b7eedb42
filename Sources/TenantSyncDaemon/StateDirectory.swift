import Foundation
import TenantSyncCore
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's state directory, held with an exclusive lock while the daemon runs.
///
/// The lock (`flock` on `tenantsyncd.lock`) keeps a second daemon off the same
/// database; the kernel drops it when the process dies, so a crash never leaves
/// a stale lock behind.
public final class StateDirectory: Sendable {
    public let path: String
    private let lockDescriptor: Int32

    public static let lockFileName = "tenantsyncd.lock"

    /// Creates the directory (mode 0700) if needed and takes the lock.
    public init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw TenantSyncError(.storeUnavailable, "The state directory \(path) exists but is not a directory.")
            }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw TenantSyncError(.storeUnavailable, "Cannot create the state directory \(path): \(Self.reason(error)).")
            }
        }
        guard access(path, R_OK | W_OK | X_OK) == 0 else {
            throw TenantSyncError(
                .storeUnavailable,
                "The state directory \(path) is not writable by this user (uid \(getuid())): \(String(cString: strerror(errno)))."
            )
        }
        let lockPath = path + "/" + Self.lockFileName
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw TenantSyncError(.storeUnavailable, "Cannot open \(lockPath): \(String(cString: strerror(errno))).")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw TenantSyncError(
                .storeUnavailable,
                "Another tenantsyncd is using the state directory \(path) (\(lockPath) is locked); stop it first.",
                context: ["reason": "locked"]
            )
        }
        self.lockDescriptor = descriptor
    }

    deinit {
        close(lockDescriptor)
    }

    /// The database file inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    private static func reason(_ error: any Error) -> String {
        (error as NSError).localizedDescription
    }
}
