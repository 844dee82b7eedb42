/// Why a certificate credential cannot be used.
///
/// The message names files and what to do; it never holds key material (the key's text, its
/// parameters or the parser's view of them), so it may be printed and logged as it is.
public struct ClientCertificateError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// The certificate file holds no PEM `CERTIFICATE` that parses.
        case certificateUnreadable = "certificate-unreadable"
        /// The key file holds no RSA private key (PKCS#1 or PKCS#8 PEM) that parses.
        case keyUnreadable = "key-unreadable"
        /// The certificate's key is not RSA, or the private key is shorter than 2048 bits.
        case unsupportedKey = "unsupported-key"
        /// The private key does not belong to the certificate.
        case keyMismatch = "key-mismatch"
        /// Signing an assertion failed.
        case signingFailed = "signing-failed"
    }

    public var code: Code
    public var message: String
    public var context: [String: String]

    public init(_ code: Code, _ message: String, context: [String: String] = [:]) {
        self.code = code
        self.message = message
        self.context = context
    }

    public var description: String { message }
}
