import MicrosoftCloud
import M365Emulator
import TenantSyncCore

extension TokenFixture {
    /// An active Teams Chat account whose own app (registered at the emulator with `secret`, Chat.Read.All
    /// consented) holds one client-credentials grant with a token Microsoft issued, due now.
    func activeTeamsAccount(appID: String, secret: String) async throws -> (account: ServiceAccount, grant: Grant) {
        try emulator.registerApp(tenant: tenant.id, AppRegistration(
            appId: appID, secret: secret, graphPermissions: ["Chat.Read.All"], consented: true
        ))
        let account = try await store.createAccount(tenantID: tenant.id, service: .teamsChat, appID: appID, licensingModel: .a)
        try await store.setClientSecret(accountID: account.id, appID: appID, secret: Secret(secret), expiresAt: nil)
        let grant = try await store.addGrant(accountID: account.id, name: "app", resource: graphResource, flow: .clientCredentials)
        let first = try await client.clientCredentials(
            tenant: tenant.id, client: OAuthClientCredentials(clientID: appID, clientSecret: Secret(secret)), scope: graphResource
        )
        try await store.storeTokenSet(grantID: grant.id, tokens: first, nextRefreshAt: wall.now)
        try await store.setAccountState(id: account.id, state: .active, provisioningStep: nil, provisioningError: nil)
        return (account, grant)
    }
}
