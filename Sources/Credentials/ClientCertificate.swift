import _CryptoExtras
import Crypto
import Foundation
import TenantSyncCore
import X509

/// A certificate credential of an Entra application: the X.509 certificate uploaded to the app
/// registration and the RSA private key that signs client assertions with it.
///
/// Microsoft identity platform application authentication certificate credentials: the app proves
/// its identity with a JWT signed by the certificate's private key; Microsoft finds the certificate
/// by the `x5t#S256` header (base64url SHA-256 of the certificate's DER bytes) and checks the
/// signature with its public key. Loading refuses a key that does not belong to the certificate, so
/// the mistake shows at `--check-config` rather than as AADSTS700027 at the first token request.
///
/// The private key never prints: `description` names the certificate only.
public struct ClientCertificate: Sendable, Equatable, CustomStringConvertible {
    /// Base64url (no padding) SHA-256 of the certificate's DER encoding, the `x5t#S256` JWT header.
    public let thumbprintSHA256: String
    /// Upper-case hex SHA-1 of the DER encoding: the "Thumbprint" the Entra admin center lists.
    public let thumbprintSHA1: String
    public let notValidBefore: Date
    public let notValidAfter: Date
    public let subject: String
    /// The certificate itself, PEM encoded (public; what is uploaded to the app registration).
    public let certificatePEM: String
    let privateKey: _RSA.Signing.PrivateKey

    /// Parses a PEM certificate and its PEM private key and checks that they belong together.
    ///
    /// - Parameters:
    ///   - certificatePEM: one `-----BEGIN CERTIFICATE-----` block (further blocks, e.g. a chain, are ignored).
    ///   - privateKeyPEM: an RSA key of at least 2048 bits, `RSA PRIVATE KEY` (PKCS#1) or `PRIVATE KEY` (PKCS#8).
    /// - Throws: ``ClientCertificateError``; its message never holds key material.
    public init(certificatePEM: String, privateKeyPEM: Secret) throws(ClientCertificateError) {
        let certificate: Certificate
        let der: [UInt8]
        do {
            // The thumbprint is of the DER bytes as written (and as uploaded to Microsoft), not of a re-encoding.
            guard let block = Self.firstBlock(labelled: "CERTIFICATE", in: certificatePEM),
                  let bytes = Data(base64Encoded: block.dropFirst("-----BEGIN CERTIFICATE-----".count)
                      .dropLast("-----END CERTIFICATE-----".count).filter { !$0.isWhitespace })
            else { throw ClientCertificateError(.certificateUnreadable, "no PEM block") }
            der = Array(bytes)
            certificate = try Certificate(derEncoded: der)
        } catch {
            throw ClientCertificateError(
                .certificateUnreadable,
                "The certificate is not a PEM X.509 certificate (-----BEGIN CERTIFICATE-----).",
                context: ["reason": "\(type(of: error))"]
            )
        }
        guard let certificateKey = _RSA.Signing.PublicKey(certificate.publicKey) else {
            throw ClientCertificateError(
                .unsupportedKey, "The certificate's key is not RSA; Microsoft Entra certificate credentials are RSA keys of 2048 bits or more."
            )
        }
        let key: _RSA.Signing.PrivateKey
        do {
            key = try _RSA.Signing.PrivateKey(pemRepresentation: privateKeyPEM.reveal)
        } catch {
            // The parser's error is not passed on: some describe the bytes they choked on.
            throw ClientCertificateError(
                .keyUnreadable,
                "The private key is not a PEM RSA private key of at least 2048 bits (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----; an encrypted key must be decrypted first, e.g. `openssl pkey -in KEY -out KEY.plain`)."
            )
        }
        guard key.publicKey.derRepresentation == certificateKey.derRepresentation else {
            throw ClientCertificateError(
                .keyMismatch, "The private key does not belong to the certificate (their public keys differ): check that both files come from the same `openssl req`."
            )
        }
        self.thumbprintSHA256 = Data(SHA256.hash(data: der)).base64URLEncodedString
        self.thumbprintSHA1 = Insecure.SHA1.hash(data: der).map { String(format: "%02X", $0) }.joined()
        self.notValidBefore = certificate.notValidBefore
        self.notValidAfter = certificate.notValidAfter
        self.subject = String(describing: certificate.subject)
        self.certificatePEM = Self.firstBlock(labelled: "CERTIFICATE", in: certificatePEM) ?? certificatePEM
        self.privateKey = key
    }

    /// Signs `data` with RSASSA-PSS, SHA-256, MGF1 SHA-256 and a 32-byte salt: JWS `PS256` (RFC 7518 §3.5).
    public func signPS256(_ data: some DataProtocol) throws(ClientCertificateError) -> Data {
        do {
            return try privateKey.signature(for: SHA256.hash(data: data), padding: .PSS).rawRepresentation
        } catch {
            throw ClientCertificateError(.signingFailed, "Signing the client assertion failed.")
        }
    }

    public var description: String { "certificate \(thumbprintSHA1) (\(subject))" }

    public static func == (lhs: ClientCertificate, rhs: ClientCertificate) -> Bool {
        lhs.thumbprintSHA256 == rhs.thumbprintSHA256 && lhs.privateKey.derRepresentation == rhs.privateKey.derRepresentation
    }

    /// The first PEM block with `label`, so a file that also holds the chain (or the key) still works.
    static func firstBlock(labelled label: String, in text: String) -> String? {
        guard let begin = text.range(of: "-----BEGIN \(label)-----"),
              let end = text.range(of: "-----END \(label)-----", range: begin.upperBound..<text.endIndex)
        else { return nil }
        return String(text[begin.lowerBound..<end.upperBound])
    }
}

extension Data {
    /// Base64url without padding (RFC 4648 §5), as JWTs use it.
    var base64URLEncodedString: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
