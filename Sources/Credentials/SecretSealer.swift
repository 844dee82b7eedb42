import Crypto
import Foundation
import TenantSyncCore

/// Seals secrets for storage with AES-256-GCM.
///
/// Each sealed value binds its place in the database (table, row, column) as
/// authenticated data, so a sealed token copied into another row does not open.
/// Layout: one version byte (`1`), then nonce, ciphertext and tag
/// (`AES.GCM.SealedBox.combined`).
public struct SecretSealer: Sendable {
    private static let formatVersion: UInt8 = 1
    // The raw key rather than a `SymmetricKey`, which swift-crypto does not mark Sendable.
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// - Parameter keyBytes: exactly 32 bytes.
    public init(keyBytes: [UInt8]) throws {
        guard keyBytes.count == 32 else {
            throw TenantSyncError(.secretKeyUnavailable, "The secret key must be 256 bits (32 bytes); got \(keyBytes.count * 8) bits.")
        }
        self.keyBytes = keyBytes
    }

    public func seal(_ secret: Secret, boundTo place: String) throws -> Data {
        let box = try AES.GCM.seal(Data(secret.reveal.utf8), using: key, authenticating: Data(place.utf8))
        guard let combined = box.combined else {
            throw TenantSyncError(.secretCorrupted, "Sealing a secret produced no output.")
        }
        var data = Data([Self.formatVersion])
        data.append(combined)
        return data
    }

    public func open(_ sealed: Data, boundTo place: String) throws -> Secret {
        guard sealed.first == Self.formatVersion else {
            throw TenantSyncError(.secretCorrupted, "A stored secret has an unknown format.", context: ["place": place])
        }
        do {
            let box = try AES.GCM.SealedBox(combined: sealed.dropFirst())
            let clear = try AES.GCM.open(box, using: key, authenticating: Data(place.utf8))
            return Secret(String(decoding: clear, as: UTF8.self))
        } catch {
            throw TenantSyncError(
                .secretCorrupted,
                "A stored secret does not open with this key: the key file changed or the row was altered. Renew the affected account.",
                context: ["place": place]
            )
        }
    }
}
