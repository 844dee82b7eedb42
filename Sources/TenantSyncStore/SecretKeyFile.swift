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
    public static func loadOrCreate(path: String, mayCreate: Bool) throws -> [UInt8] {
        if !FileManager.default.fileExists(atPath: path) {
            guard mayCreate else {
                throw TenantSyncError(.secretKeyUnavailable, "The secret key file \(path) does not exist.")
            }
            try create(path: path)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TenantSyncError(.secretKeyUnavailable, "The secret key file \(path) cannot be read; check its owner and mode.")
        }
        if data.count == 32 { return Array(data) }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if let decoded = Data(base64Encoded: text), decoded.count == 32 { return Array(decoded) }
        throw TenantSyncError(
            .secretKeyUnavailable,
            "The secret key file \(path) holds neither 32 raw bytes nor 32 base64-encoded bytes."
        )
    }

    private static func create(path: String) throws {
        var key = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in key.indices { key[index] = UInt8.random(in: .min ... .max, using: &generator) }
        let text = Data(key).base64EncodedString() + "\n"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw TenantSyncError(
                .secretKeyUnavailable,
                "Cannot create the secret key file \(path): \(String(cString: strerror(errno)))."
            )
        }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            unlink(path)
            throw TenantSyncError(.secretKeyUnavailable, "Cannot write the secret key file \(path).")
        }
    }
}
