/// Hands out a fresh Microsoft Graph access token for a tenant.
///
/// The token service implements it from stored, already-refreshed token sets;
/// a caller that got a 401 asks again with `forceRefresh` once, or, when the 401
/// carried a claims challenge (continuous access evaluation), with its claims.
public protocol GraphTokenSource: Sendable {
    func graphAccessToken(tenantID: String, forceRefresh: Bool) async throws -> Secret
    /// A token requested with a claims challenge's claims (the challenge's JSON, not a secret).
    func graphAccessToken(tenantID: String, answeringClaims claims: String) async throws -> Secret
}

extension GraphTokenSource {
    /// For sources that make no token request of their own (test and benchmark stand-ins): a forced refresh.
    /// The daemon's source (`StoredGraphTokenSource`) sends the claims to Microsoft.
    public func graphAccessToken(tenantID: String, answeringClaims claims: String) async throws -> Secret {
        try await graphAccessToken(tenantID: tenantID, forceRefresh: true)
    }
}
