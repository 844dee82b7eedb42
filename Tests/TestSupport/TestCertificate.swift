import _CryptoExtras
import Foundation
import X509

/// A self-signed RSA certificate and its private key, made in the test (real crypto, no fixture files).
///
/// What an administrator makes with `openssl req -x509 -newkey rsa:2048 -nodes`: the PEM certificate
/// to upload to the app registration and the PEM private key the daemon signs assertions with.
public struct TestCertificate: Sendable {
    public let certificatePEM: String
    public let privateKeyPEM: String
    public let notValidAfter: Date

    /// - Parameters:
    ///   - notValidBefore: defaults to an hour ago (whole seconds: X.509 times carry no fractions).
    ///   - validFor: the certificate's life from `notValidBefore`.
    public init(commonName: String = "tenantsync test", notValidBefore: Date? = nil, validFor: TimeInterval = 365 * 86_400) throws {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let start = Date(timeIntervalSince1970: ((notValidBefore ?? Date().addingTimeInterval(-3_600)).timeIntervalSince1970).rounded(.down))
        let name = try DistinguishedName { CommonName(commonName) }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: start, notValidAfter: start.addingTimeInterval(validFor), issuer: name, subject: name,
            signatureAlgorithm: .sha256WithRSAEncryption, extensions: Certificate.Extensions(), issuerPrivateKey: .init(key)
        )
        certificatePEM = try certificate.serializeAsPEM().pemString
        privateKeyPEM = key.pemRepresentation
        notValidAfter = start.addingTimeInterval(validFor)
    }

    /// Writes both to `directory` (key with mode 0600) and returns their paths.
    public func write(to directory: String, name: String = "client") throws -> (certificate: String, key: String) {
        let certificate = directory + "/\(name).crt", key = directory + "/\(name).key"
        try Data(certificatePEM.utf8).write(to: URL(fileURLWithPath: certificate))
        FileManager.default.createFile(atPath: key, contents: Data(privateKeyPEM.utf8), attributes: [.posixPermissions: 0o600])
        return (certificate, key)
    }
}
