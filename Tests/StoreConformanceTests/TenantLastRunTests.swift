import Foundation
import TenantSyncCore
import Testing

/// The daily plan reads each tenant's newest run start from the tenant row (schema version 10), kept by a trigger.
///
/// (Moved from TenantSyncStoreTests, which keeps the SQLite-only checks of the query plan and the upgrade.)
/// Found by the fleet benchmark: with 300,000 runs at 10,000 tenants, looking the newest start up among the runs
/// cost an index seek per tenant into the runs' whole history, on every planning pass and every `status`.
@Suite("Tenants keep their newest run start")
struct TenantLastRunTests {
    @Test(arguments: StoreKind.allCases) func theNewestStartIsKeptWhateverOrderRunsAreStoredIn(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
        let store = fixture.store
        let (tenant, account, _, _) = try await fixture.seedExchangeAccount(domain: "a.example")
        try await store.setAccountState(id: account.id, state: .active, provisioningStep: nil, provisioningError: nil)
        #expect(try await store.scheduledTenants(onlyTenantID: tenant.id).first?.lastRunStartedAt == nil, "never synced")
        let base = Date(timeIntervalSince1970: 1_800_000_000)
        for offset in [2.0, 0, 5, 1] {
            _ = try await store.startSyncRun(tenantID: tenant.id, service: nil, trigger: .manual, mode: .delta, at: base + offset * 86_400)
        }
        #expect(try await store.scheduledTenants(onlyTenantID: nil).first?.lastRunStartedAt == base + 5 * 86_400)
        }
    }
}
