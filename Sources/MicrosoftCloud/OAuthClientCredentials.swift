import Credentials
import Foundation
import TenantSyncCore

/// Who is asking for tokens: an application id and, for a confidential client, its secret or its certificate.
public struct OAuthClientCredentials: Sendable, Equatable {
    public var clientID: String
    /// Absent for a public client and for one that authenticates with a certificate.
    public var clientSecret: Secret?
    /// A certificate credential: each token request then carries a freshly signed client assertion instead of a secret.
    public var certificate: ClientCertificate?

    public init(clientID: String, clientSecret: Secret?) {
        self.clientID = clientID
        self.clientSecret = clientSecret
    }

    public init(clientID: String, certificate: ClientCertificate) {
        self.clientID = clientID
        self.certificate = certificate
    }

    /// The client's form fields for one request to `audience` (the token endpoint it is posted to).
    ///
    /// With a certificate, Microsoft identity platform application authentication certificate credentials:
    /// `client_assertion_type` = jwt-bearer and `client_assertion` = a PS256 JWT with a new `jti`, so the
    /// pairs must be made anew for every request (a replayed assertion is refused).
    func formPairs(audience: String, now: Date) throws(ClientCertificateError) -> [(String, String)] {
        var pairs = [("client_id", clientID)]
        if let certificate {
            let assertion = try ClientAssertion.make(certificate: certificate, clientID: clientID, audience: audience, now: now)
            pairs.append(("client_assertion_type", ClientAssertion.type))
            pairs.append(("client_assertion", assertion.reveal))
        } else if let clientSecret {
            pairs.append(("client_secret", clientSecret.reveal))
        }
        return pairs
    }
}
