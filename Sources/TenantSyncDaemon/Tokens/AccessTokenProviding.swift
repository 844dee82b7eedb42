import TenantSyncCore

/// Hands out a grant's current access token to the services that call Microsoft.
public protocol AccessTokenProviding: Sendable {
    /// The stored, fresh access token of the grant.
    ///
    /// Never refreshes on the hot path unless the stored token has already expired
    /// and its refresh is due; the token returned is always one that is durably stored.
    /// - Throws: `TenantSyncError` `grantInvalid` (renew it), `tokenUnavailable`, `grantNotFound`.
    func accessToken(grantID: Int64) async throws -> Secret
}
