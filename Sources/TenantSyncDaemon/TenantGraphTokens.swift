import TenantSyncCore

/// Graph tokens for a tenant's directory reads, taken from the tenant's own delegated Graph grants.
///
/// Any valid Graph grant of an account that reads the directory will do; the
/// refresher keeps them fresh, so this never refreshes on the hot path.
struct TenantGraphTokens: GraphTokenSource {
    let store: any AccountStore
    let tokens: any AccessTokenProviding

    static let directoryServices: Set<ServiceKind> = [.exchangeOnline, .sharepointOnline, .onedrive, .exchangeOnlineInline, .teamsChat]

    func graphAccessToken(tenantID: String, forceRefresh: Bool) async throws -> Secret {
        var lastError: (any Error)?
        for account in try await store.accounts() where account.tenantID == tenantID && Self.directoryServices.contains(account.service) {
            for grant in try await store.grants(accountID: account.id) where grant.state == .valid && (grant.name == "graph" || grant.resource.contains("graph")) {
                do {
                    return try await tokens.accessToken(grantID: grant.id)
                } catch {
                    lastError = error
                }
            }
        }
        if let lastError { throw lastError }
        throw TenantSyncError(
            .accountNotFound,
            "The tenant has no working Microsoft Graph grant to read its directory with; provision or renew an account first.",
            context: ["tenant.id": tenantID]
        )
    }
}
