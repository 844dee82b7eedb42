import _CryptoExtras
import Crypto
import Foundation
import X509

/// A certificate uploaded to an app registration (Graph's `keyCredentials`): what the emulator checks
/// client assertions against. Only the public part is ever held.
struct AppCertificate: Sendable {
    /// Base64url SHA-256 of the DER certificate: the `x5t#S256` header that names it.
    var thumbprintSHA256: String
    /// Base64url SHA-1 of the DER certificate: the older `x5t` header.
    var thumbprintSHA1: String
    var publicKey: _RSA.Signing.PublicKey
    var notValidBefore: Double
    var notValidAfter: Double

    /// Parses one PEM certificate; only RSA keys are accepted, as Microsoft Entra does for certificate credentials.
    init(pem: String) throws(EmulatorError) {
        let der: [UInt8]
        let certificate: Certificate
        do {
            // The thumbprints are of the DER bytes as uploaded, so they are decoded here rather than re-encoded.
            der = try Self.derBytes(pem)
            certificate = try Certificate(derEncoded: der)
        } catch {
            throw .badRequest("certificate must be one PEM X.509 certificate (-----BEGIN CERTIFICATE-----)")
        }
        guard let key = _RSA.Signing.PublicKey(certificate.publicKey) else {
            throw .badRequest("certificate must hold an RSA key")
        }
        thumbprintSHA256 = Data(SHA256.hash(data: der)).base64URLEncoded
        thumbprintSHA1 = Data(Insecure.SHA1.hash(data: der)).base64URLEncoded
        publicKey = key
        notValidBefore = certificate.notValidBefore.timeIntervalSince1970
        notValidAfter = certificate.notValidAfter.timeIntervalSince1970
    }

    struct NotPEM: Error {}

    /// The base64 body of the first `CERTIFICATE` block, decoded.
    static func derBytes(_ pem: String) throws -> [UInt8] {
        guard let begin = pem.range(of: "-----BEGIN CERTIFICATE-----"),
              let end = pem.range(of: "-----END CERTIFICATE-----", range: begin.upperBound..<pem.endIndex),
              let bytes = Data(base64Encoded: pem[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace })
        else { throw NotPEM() }
        return Array(bytes)
    }
}
