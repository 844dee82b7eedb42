import Crypto
import Foundation
import TenantSyncCore

/// A PKCE code verifier and its S256 challenge (RFC 7636).
public struct PKCE: Sendable, Equatable {
    /// Sent only when redeeming the code; never logged.
    public let verifier: Secret
    /// `BASE64URL(SHA256(verifier))`, sent in the authorize URL.
    public let challenge: String
    public var method: String { "S256" }

    /// A fresh verifier: 32 random bytes, base64url (43 characters).
    public init() {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        self.init(verifier: Self.base64URL(Data(bytes)))
    }

    /// A verifier chosen by the caller (43 to 128 unreserved characters).
    public init(verifier: String) {
        self.verifier = Secret(verifier)
        self.challenge = Self.base64URL(Data(SHA256.hash(data: Data(verifier.utf8))))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
