import TenantSyncCore

/// Graph access tokens for a tenant, from the stored grants the refresher keeps fresh.
///
/// Picks a valid grant of the tenant whose resource is Microsoft Graph's
/// `.default` scope. `forceRefresh` (the caller got a 401) refreshes that grant
/// once under its lock, unless a concurrent refresh already replaced the token.
public struct StoredGraphTokenSource: GraphTokenSource {
    let refresher: TokenRefresher
    let storage: any TokenRefresherStorage
    /// Microsoft Graph's `.default` scope as configured (`MicrosoftEndpoints.graphDefaultScope`).
    let graphScope: String

    public init(refresher: TokenRefresher, storage: any TokenRefresherStorage, graphScope: String) {
        self.refresher = refresher
        self.storage = storage
        self.graphScope = graphScope
    }

    public func graphAccessToken(tenantID: String, forceRefresh: Bool) async throws -> Secret {
        let grantID = try await graphGrant(tenantID: tenantID)
        if forceRefresh, let snapshot = try await storage.tokenSnapshot(grantID: grantID) {
            await refresher.refreshIfDue(grantID: grantID, onDemand: false, forcedBelow: snapshot.generation + 1)
        }
        return try await refresher.accessToken(grantID: grantID)
    }

    /// A token of the tenant's Graph grant requested with a claims challenge's claims (continuous access evaluation).
    public func graphAccessToken(tenantID: String, answeringClaims claims: String) async throws -> Secret {
        try await refresher.answerClaimsChallenge(grantID: try await graphGrant(tenantID: tenantID), claims: claims)
    }

    /// The first valid Graph grant of the tenant, preferring Exchange Online, then SharePoint, OneDrive, Inline, Teams.
    func graphGrant(tenantID: String) async throws -> Int64 {
        let accounts = try await storage.accounts().filter { $0.tenantID == tenantID }
        let order = ServiceKind.allCases
        for account in accounts.sorted(by: { order.firstIndex(of: $0.service)! < order.firstIndex(of: $1.service)! }) {
            if let grant = try await storage.grants(accountID: account.id).first(where: { $0.state == .valid && $0.resource == graphScope }) {
                return grant.id
            }
        }
        throw TenantSyncError(
            .tokenUnavailable, "The tenant has no valid Microsoft Graph grant; provision or renew one of its service accounts.",
            context: ["tenant.id": tenantID]
        )
    }
}
