import Foundation
import Logging
import MicrosoftCloud
import TenantSyncCore

/// Replaces a grant's tokens after an administrator re-created them.
///
/// Delegated grants bring a token set from a fresh device-code or
/// authorization-code consent; client-credentials grants bring a new secret
/// (and possibly a new app id), with which a token is obtained first, so that
/// a secret Microsoft refuses replaces nothing. The replacement, the grant and
/// account state, the closed incidents and the `token-renewed` event are one
/// transaction. The control plane calls this; so do the tests.
public struct TokenRenewal: Sendable {
    let storage: any TokenRefresherStorage
    let refresher: TokenRefresher
    let logger: Logger
    let now: @Sendable () -> Date

    public init(storage: any TokenRefresherStorage, refresher: TokenRefresher, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.storage = storage
        self.refresher = refresher
        self.logger = logger
        self.now = now
    }

    /// Renews a delegated grant with the token set a new consent produced.
    public func renew(grantID: Int64, tokens: TokenSet) async throws -> TokenRenewalOutcome {
        let grant = try await requireGrant(grantID)
        guard grant.flow == .delegated else {
            throw TenantSyncError(
                .invalidArgument, "The grant uses client credentials; renew it with a new client secret instead.",
                context: ["grant.id": "\(grantID)"]
            )
        }
        guard tokens.refreshToken != nil else {
            throw TenantSyncError(
                .invalidArgument, "The new token set has no refresh token; consent again asking for offline_access.",
                context: ["grant.id": "\(grantID)"]
            )
        }
        return try await apply(grant: grant, tokens: tokens, clientSecret: nil)
    }

    /// Renews a client-credentials grant with a new secret (and app id), checked against Microsoft first.
    ///
    /// - Throws: the identity platform's error when it refuses the new secret; nothing is replaced then.
    public func renewClientCredentials(
        grantID: Int64, appID: String, secret: Secret, secretExpiresAt: Date?, using client: IdentityPlatformClient
    ) async throws -> TokenRenewalOutcome {
        try await renewClientCredentials(
            grantID: grantID, credential: .init(appID: appID, secret: secret, expiresAt: secretExpiresAt),
            client: OAuthClientCredentials(clientID: appID, clientSecret: secret), using: client
        )
    }

    /// Renews a client-credentials grant with a new credential (a secret, or a certificate and its key), checked
    /// against Microsoft first by a token request made as `app`.
    public func renewClientCredentials(
        grantID: Int64, credential: TokenRenewalRecord.ClientSecretUpdate, client app: OAuthClientCredentials, using client: IdentityPlatformClient
    ) async throws -> TokenRenewalOutcome {
        let grant = try await requireGrant(grantID)
        guard grant.flow == .clientCredentials else {
            throw TenantSyncError(
                .invalidArgument, "The grant is delegated; renew it with a device-code or authorization-code consent.",
                context: ["grant.id": "\(grantID)"]
            )
        }
        guard let account = try await storage.account(id: grant.accountID),
              let tenant = try await storage.tenant(idOrDomain: account.tenantID)
        else {
            throw TenantSyncError(.accountNotFound, "The grant's account is gone.", context: ["grant.id": "\(grantID)"])
        }
        let tokens = try await client.clientCredentials(tenant: tenant.id, client: app, scope: grant.resource)
        return try await apply(grant: grant, tokens: tokens, clientSecret: credential)
    }

    private func apply(grant: Grant, tokens: TokenSet, clientSecret: TokenRenewalRecord.ClientSecretUpdate?) async throws -> TokenRenewalOutcome {
        guard let account = try await storage.account(id: grant.accountID),
              let tenant = try await storage.tenant(idOrDomain: account.tenantID)
        else {
            throw TenantSyncError(.accountNotFound, "The grant's account is gone.", context: ["grant.id": "\(grant.id)"])
        }
        let subject = TokenAlertComposer.Subject(
            tenantID: tenant.id, tenantDomain: tenant.domain, service: account.service, accountID: account.id,
            grantID: grant.id, grantName: grant.name
        )
        let record = TokenRenewalRecord(
            grantID: grant.id, tokens: tokens,
            nextRefreshAt: refresher.configuration.schedule.nextRefresh(for: tokens, random: refresher.random()),
            clientSecret: clientSecret, at: now()
        )
        // Under the grant's lock: a refresh in flight finishes first, and its result is then
        // discarded by the generation check rather than overwriting the renewal.
        let outcome = try await refresher.locks.withLock(grant.id) {
            try await storage.applyRenewal(
                record,
                alert: { account, resolved in
                    TokenAlertComposer.renewed(subject, accountState: account.state, resolvedIncidents: resolved.count)
                },
                channels: refresher.configuration.alertChannels
            )
        }
        refresher.wake()
        logger.notice(
            "Grant renewed",
            metadata: [
                "grant.id": "\(grant.id)", "account.id": "\(account.id)", "account.service": "\(account.service.rawValue)",
                "tenant.id": "\(tenant.id)", "account.state": "\(outcome.account.state.rawValue)",
                "incidents.resolved": "\(outcome.resolvedIncidents.count)",
            ]
        )
        return outcome
    }

    private func requireGrant(_ grantID: Int64) async throws -> Grant {
        guard let grant = try await storage.grant(id: grantID) else {
            throw TenantSyncError(.grantNotFound, "No grant \(grantID).", context: ["grant.id": "\(grantID)"])
        }
        return grant
    }
}
