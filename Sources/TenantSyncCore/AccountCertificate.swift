/// The certificate credential of an account's own app (Teams Chat), as the store keeps it.
///
/// The certificate is public (it is uploaded to the app registration) and stored as it is; the private
/// key is a ``Secret``, sealed at rest like a client secret. Parsing and the key/certificate match are the
/// `Credentials` module's work: the store holds text only.
public struct AccountCertificate: Sendable, Equatable {
    /// One PEM `CERTIFICATE` block.
    public var certificatePEM: String
    /// The PEM RSA private key that belongs to the certificate.
    public var privateKey: Secret

    public init(certificatePEM: String, privateKey: Secret) {
        self.certificatePEM = certificatePEM
        self.privateKey = privateKey
    }
}
