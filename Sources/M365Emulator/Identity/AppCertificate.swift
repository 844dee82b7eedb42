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
        let document: PEMDocument
        let certificate: Certificate
        do {
            document = try PEMDocument(pemString: pem.trimmingCharacters(in: .whitespacesAndNewlines))
            certificate = try Certificate(pemDocument: document)
        } catch {
            throw .badRequest("certificate must be one PEM X.509 certificate (-----BEGIN CERTIFICATE-----)")
        }
        guard let key = _RSA.Signing.PublicKey(certificate.publicKey) else {
            throw .badRequest("certificate must hold an RSA key")
        }
        thumbprintSHA256 = Data(SHA256.hash(data: document.derBytes)).base64URLEncoded
        thumbprintSHA1 = Data(Insecure.SHA1.hash(data: document.derBytes)).base64URLEncoded
        publicKey = key
        notValidBefore = certificate.notValidBefore.timeIntervalSince1970
        notValidAfter = certificate.notValidAfter.timeIntervalSince1970
    }
}
