/// Hands out a fresh Microsoft Graph access token for a tenant.
///
/// The token service implements it from stored, already-refreshed token sets;
/// a caller that got a 401 asks again with `forceRefresh` once.
public protocol GraphTokenSource: Sendable {
    func graphAccessToken(tenantID: String, forceRefresh: Bool) async throws -> Secret
}
