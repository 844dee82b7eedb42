import Credentials
import MicrosoftCloud
import TenantSyncCore

/// Refreshes grants against the Microsoft identity platform.
///
/// Delegated grants redeem their refresh token with the product's own
/// multi-tenant app; client-credentials grants (Teams Chat) use the account's
/// own app id and secret, or the product app in evaluation mode.
public struct MicrosoftTokenGranter: TokenGranting {
    let client: IdentityPlatformClient
    private let currentProductApp: @Sendable () -> OAuthClientCredentials
    let accounts: any AccountStore

    /// - Parameter productApp: evaluated at each token request, so that the daemon can pass an expression
    ///   reading its reloadable configuration (a rotated client secret applies to the next request).
    public init(client: IdentityPlatformClient, productApp: @autoclosure @escaping @Sendable () -> OAuthClientCredentials, accounts: any AccountStore) {
        self.client = client
        self.currentProductApp = productApp
        self.accounts = accounts
    }

    /// The product's app as configured now.
    var productApp: OAuthClientCredentials { currentProductApp() }

    public func refreshTokens(grant: Grant, account: ServiceAccount, tenant: Tenant, current: TokenSet, claims: String?) async throws -> TokenSet {
        // A claims challenge is answered with the grant's own flow: delegated with the refresh token plus the
        // claims, app-only with client credentials plus the claims ("Claims challenges, claims requests and
        // client capabilities"); a refusal (user disabled, session revoked, interaction required) is classified
        // by the refresher like any other refresh failure.
        let challenge = claims.map(ClaimsChallenge.init(claims:))
        switch grant.flow {
        case .delegated:
            guard let refreshToken = current.refreshToken else {
                throw IdentityPlatformError(operation: "refresh_token", error: "invalid_grant")
            }
            return try await client.refresh(
                tenant: tenant.id, client: productApp, refreshToken: refreshToken, scopes: Self.delegatedScopes(grant.resource),
                claims: challenge
            )
        case .clientCredentials:
            return try await client.clientCredentials(
                tenant: tenant.id, client: try await appCredentials(account), scope: grant.resource, claims: challenge
            )
        }
    }

    /// The app a client-credentials grant of the account authenticates as.
    public func appCredentials(_ account: ServiceAccount) async throws -> OAuthClientCredentials {
        let productApp = self.productApp
        guard let appID = account.appID, appID != productApp.clientID else { return productApp }
        // A certificate credential signs a fresh client assertion for every request instead of sending a secret.
        if let stored = try await accounts.clientCertificate(accountID: account.id) {
            do {
                return OAuthClientCredentials(
                    clientID: appID, certificate: try ClientCertificate(certificatePEM: stored.certificatePEM, privateKeyPEM: stored.privateKey)
                )
            } catch {
                // It was checked when stored; failing now means the stored text is damaged.
                throw TenantSyncError(
                    .secretCorrupted, "The stored certificate credential of account \(account.id) cannot be used: \(error.message)",
                    context: ["account.id": "\(account.id)", "certificate.error": error.code.rawValue]
                )
            }
        }
        return OAuthClientCredentials(clientID: appID, clientSecret: try await accounts.clientSecret(accountID: account.id))
    }

    /// The scopes a delegated grant asks for: its resource and `offline_access` for a refresh token.
    public static func delegatedScopes(_ resource: String) -> [String] { [resource, "offline_access"] }
}
