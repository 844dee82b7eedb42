import TenantSyncCore

/// Obtains a fresh token set for a grant from the identity platform.
///
/// The scheduler depends on this, not on HTTP, so that a PostgreSQL-leased
/// or differently authenticated deployment can bring its own.
public protocol TokenGranting: Sendable {
    /// Refreshes the grant (refresh token or client credentials).
    ///
    /// - Parameter claims: the claims JSON of a resource's claims challenge the new token must satisfy
    ///   (continuous access evaluation), or `nil` for a scheduled refresh.
    /// - Throws: `IdentityPlatformError` for answers Microsoft gave or did not give;
    ///   anything else is treated as an unrecognized failure.
    func refreshTokens(grant: Grant, account: ServiceAccount, tenant: Tenant, current: TokenSet, claims: String?) async throws -> TokenSet
}

extension TokenGranting {
    /// A scheduled refresh: no claims challenge to answer.
    public func refreshTokens(grant: Grant, account: ServiceAccount, tenant: Tenant, current: TokenSet) async throws -> TokenSet {
        try await refreshTokens(grant: grant, account: account, tenant: tenant, current: current, claims: nil)
    }
}
