import TenantSyncCore

/// Obtains a fresh token set for a grant from the identity platform.
///
/// The scheduler depends on this, not on HTTP, so that a PostgreSQL-leased
/// or differently authenticated deployment can bring its own.
public protocol TokenGranting: Sendable {
    /// Refreshes the grant (refresh token or client credentials).
    ///
    /// - Throws: `IdentityPlatformError` for answers Microsoft gave or did not give;
    ///   anything else is treated as an unrecognized failure.
    func refreshTokens(grant: Grant, account: ServiceAccount, tenant: Tenant, current: TokenSet) async throws -> TokenSet
}
