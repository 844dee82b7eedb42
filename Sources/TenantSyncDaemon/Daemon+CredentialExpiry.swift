import Foundation
import TenantSyncConfig
import TenantSyncCore

extension Daemon {
    /// Stores when the product app's credential expires, as the configuration says: the certificate's
    /// `notAfter`, or `[microsoft] client_secret_expires`; forgets it when neither is known.
    static func recordProductCredentialExpiry(_ configuration: DaemonConfiguration, store: any CredentialExpiryStore, now: Date = Date()) async throws {
        let microsoft = configuration.microsoft
        if let certificate = microsoft.clientCertificate {
            try await store.recordCredentialExpiry(
                CredentialExpiry(
                    credential: CredentialExpiry.product, accountID: nil, kind: .certificate, thumbprint: certificate.thumbprintSHA1,
                    expiresAt: certificate.notValidAfter
                ),
                at: now
            )
        } else if let expires = microsoft.clientSecretExpires {
            try await store.recordCredentialExpiry(
                CredentialExpiry(credential: CredentialExpiry.product, accountID: nil, kind: .secret, thumbprint: nil, expiresAt: expires), at: now
            )
        } else {
            try await store.removeCredentialExpiry(credential: CredentialExpiry.product)
        }
    }
}
