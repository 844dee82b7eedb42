import Foundation
import TenantSyncCore
#if canImport(Glibc)
import Glibc
#endif

/// The 256-bit key that seals secrets at rest.
///
/// Read from the systemd credential `tenantsync.key` (`$CREDENTIALS_DIRECTORY`)
/// when present, else from the configured key file, which is created with mode
/// 0600 on first start. The file holds the key as base64 text (44 characters)
/// or as 32 raw bytes.
public enum SecretKeyFile {
    public static let credentialName = "tenantsync.key"

    /// Where the key is read from, given the environment and the configured file.
    public static func location(configured: String, environment: [String: String]) -> (path: String, mayCreate: Bool) {
        if let directory = environment["CREDENTIALS_DIRECTORY"], !directory.isEmpty {
            let candidate = (directory as NSString).appendingPathComponent(credentialName)
            if FileManager.default.fileExists(atPath: candidate) { return (candidate, false) }
        }
        return (configured, true)
    }

    /// Loads the key, creating the file (mode 0600) with a fresh random key if allowed and absent.
    ///
    /// The configured file (`mayCreate`) must belong to the daemon's user and be closed to group and
    /// others; a systemd credential lives in a directory systemd keeps private and is read as is.
    public static func loadOrCreate(path: String, mayCreate: Bool) throws -> [UInt8] {
        if mayCreate, !FileManager.default.fileExists(atPath: path) {
            try create(path: path)
        }
        let data = try read(path: path, requirePrivate: mayCreate)
        if data.isEmpty, !mayCreate {
            throw TenantSyncError(.secretKeyUnavailable, "The secret key credential \(path) is empty.", context: ["key.path": path, "reason": "empty"])
        }
        if data.isEmpty {
            throw TenantSyncError(
                .secretKeyUnavailable,
                "The secret key file \(path) is empty: a start of an older tenantsync was interrupted while creating it, so no key was ever written to it. If the state database holds no accounts yet, delete the empty file and start again to create a new key; if it does, restore the key file from a backup (a new key cannot open the secrets sealed with the old one).",
                context: ["key.path": path, "reason": "empty"]
            )
        }
        if data.count == 32 { return Array(data) }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if let decoded = Data(base64Encoded: text), decoded.count == 32 { return Array(decoded) }
        throw TenantSyncError(
            .secretKeyUnavailable,
            "The secret key file \(path) holds neither 32 raw bytes nor 32 base64-encoded bytes.",
            context: ["key.path": path, "reason": "malformed"]
        )
    }

    /// Reads the file through one descriptor, checking that descriptor's owner and mode (no window
    /// between the check and the read for the file to be swapped).
    private static func read(path: String, requirePrivate: Bool) throws -> Data {
        do {
            // A key is 32 bytes or 44 characters; a large file is not a key file.
            return try PrivateFile.read(path: path, what: "secret key file", requirePrivate: requirePrivate, maximumBytes: 4096)
        } catch {
            throw TenantSyncError(.secretKeyUnavailable, error.message, context: error.context)
        }
    }

    /// Writes a new key so that the file at `path` is either absent or complete, whatever crashes.
    ///
    /// The key goes to a private temporary file in the same directory, is fsynced, then linked to
    /// `path` (which, unlike rename, never replaces a key another start created meanwhile) and the
    /// directory is fsynced so the name survives a power loss.
    private static func create(path: String) throws {
        var key = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in key.indices { key[index] = UInt8.random(in: .min ... .max, using: &generator) }
        let bytes = Array((Data(key).base64EncodedString() + "\n").utf8)
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        let temporary = "\(directory)/.\((path as NSString).lastPathComponent).\(UInt64.random(in: .min ... .max, using: &generator)).tmp"
        func failure(_ what: String) -> TenantSyncError {
            TenantSyncError(
                .secretKeyUnavailable, "Cannot create the secret key file \(path): \(what) failed (\(String(cString: strerror(errno)))).",
                context: ["key.path": path, "reason": "create"]
            )
        }

        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw failure("creating \(temporary)") }
        defer { unlink(temporary) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else {
                close(descriptor)
                throw failure("writing")
            }
            offset += written
        }
        guard fsync(descriptor) == 0 else {
            close(descriptor)
            throw failure("fsync")
        }
        close(descriptor)
        if link(temporary, path) != 0 {
            // Another start created the key first: theirs is complete (it was linked the same way) and is the one to use.
            guard errno == EEXIST else { throw failure("linking into place") }
            return
        }
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directoryDescriptor >= 0 else { throw failure("opening the directory") }
        defer { close(directoryDescriptor) }
        guard fsync(directoryDescriptor) == 0 else { throw failure("fsync of the directory") }
    }
}
