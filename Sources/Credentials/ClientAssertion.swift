import Foundation
import TenantSyncCore

/// A client assertion: the signed JWT an app sends instead of a client secret.
///
/// Format per Microsoft identity platform application authentication certificate credentials:
/// header `alg` = `PS256`, `typ` = `JWT`, `x5t#S256` = the certificate's SHA-256 thumbprint;
/// claims `aud` = the tenant's token endpoint, `iss` = `sub` = the client id, a fresh `jti`,
/// `nbf` = `iat` = now and `exp` a few minutes later. Microsoft refuses an assertion whose `jti`
/// it has seen, so every request needs a new one; a short life limits what a stolen one is worth.
public enum ClientAssertion {
    /// The `client_assertion_type` form value (RFC 7523 §2.2).
    public static let type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    /// How long an assertion is valid: long enough for a slow request, short enough to be worth little if copied.
    public static let lifetime: Duration = .seconds(300)

    private struct Header: Encodable {
        let alg = "PS256"
        let typ = "JWT"
        let x5tS256: String

        enum CodingKeys: String, CodingKey {
            case alg, typ
            case x5tS256 = "x5t#S256"
        }
    }

    private struct Claims: Encodable {
        let aud: String
        let iss: String
        let sub: String
        let jti: String
        let nbf: Int64
        let iat: Int64
        let exp: Int64
    }

    /// Makes and signs one assertion.
    ///
    /// - Parameters:
    ///   - audience: the token endpoint the assertion is sent to, `{authority}/{tenant}/oauth2/v2.0/token`.
    ///   - id: the `jti`; a fresh UUID unless a test needs to send the same one twice.
    public static func make(
        certificate: ClientCertificate, clientID: String, audience: String, now: Date, lifetime: Duration = Self.lifetime,
        id: String = UUID().uuidString.lowercased()
    ) throws(ClientCertificateError) -> Secret {
        let issuedAt = Int64(now.timeIntervalSince1970.rounded(.down))
        let header = Header(x5tS256: certificate.thumbprintSHA256)
        let claims = Claims(
            aud: audience, iss: clientID, sub: clientID, jti: id, nbf: issuedAt, iat: issuedAt, exp: issuedAt + lifetime.components.seconds
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let headerJSON = try? encoder.encode(header), let claimsJSON = try? encoder.encode(claims) else {
            throw ClientCertificateError(.signingFailed, "The client assertion could not be encoded.")
        }
        let signingInput = headerJSON.base64URLEncodedString + "." + claimsJSON.base64URLEncodedString
        let signature = try certificate.signPS256(Data(signingInput.utf8))
        return Secret(signingInput + "." + signature.base64URLEncodedString)
    }
}
