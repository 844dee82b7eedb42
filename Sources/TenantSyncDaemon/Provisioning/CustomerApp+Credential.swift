import Credentials
import Foundation
import MicrosoftCloud
import TenantSyncCore

/// What the customer's own app authenticates with, checked before anything is asked of Microsoft or stored.
struct CustomerAppCredential: Sendable {
    /// Token requests with this app: the secret, or a fresh client assertion each time.
    var client: OAuthClientCredentials
    /// Set for a certificate credential: the parsed pair (its notAfter is the credential's expiry).
    var certificate: ClientCertificate?
}

extension CustomerApp {
    /// The app's credential; a certificate whose key does not belong to it (or that does not parse) is refused
    /// with the reason and what to do, never with anything read from the key.
    func credential() throws -> CustomerAppCredential {
        if let certificatePEM {
            guard clientSecret == nil else {
                throw TenantSyncError(.invalidArgument, "Give the Teams Chat app either a client secret or a certificate and its key, not both.")
            }
            guard let privateKey else {
                throw TenantSyncError(.invalidArgument, "The Teams Chat app's certificate came without its private key: give --key-file too.")
            }
            let certificate: ClientCertificate
            do {
                certificate = try ClientCertificate(certificatePEM: certificatePEM, privateKeyPEM: privateKey)
            } catch {
                throw TenantSyncError(
                    .invalidArgument, "The Teams Chat app's certificate credential was refused: \(error.message)",
                    context: ["app.id": appID, "certificate.error": error.code.rawValue]
                )
            }
            return CustomerAppCredential(client: OAuthClientCredentials(clientID: appID, certificate: certificate), certificate: certificate)
        }
        guard let clientSecret else {
            throw TenantSyncError(.invalidArgument, "The Teams Chat app needs a client secret (--secret-file) or a certificate (--certificate-file and --key-file).")
        }
        return CustomerAppCredential(client: OAuthClientCredentials(clientID: appID, clientSecret: clientSecret), certificate: nil)
    }
}
