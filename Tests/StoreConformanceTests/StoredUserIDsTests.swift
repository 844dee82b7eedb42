import Foundation
import TenantSyncCore
import Testing

/// A delta run asks which of the users it read as removed are stored: the answer must be exactly those, of this
/// tenant only, whatever the store.
@Suite("Stored user lookup")
struct StoredUserIDsTests {
    @Test(arguments: StoreKind.allCases) func onlyTheStoredUsersOfTheTenantAreReturned(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let contoso = try await fixture.store.upsertTenant(id: UUID().uuidString, domain: "contoso.com", displayName: nil)
            let fabrikam = try await fixture.store.upsertTenant(id: UUID().uuidString, domain: "fabrikam.com", displayName: nil)
            func users(_ ids: [String], _ domain: String) -> DirectoryBatch {
                var batch = DirectoryBatch()
                batch.upsertedUsers = ids.map {
                    DirectoryUser(id: $0, userPrincipalName: "\($0)@\(domain)", displayName: nil, mail: nil, accountEnabled: true)
                }
                return batch
            }
            try await fixture.store.applyDirectoryBatch(tenantID: contoso.id, batch: users(["u1", "u2", "u3"], "contoso.com"), at: .now)
            try await fixture.store.applyDirectoryBatch(tenantID: fabrikam.id, batch: users(["u4"], "fabrikam.com"), at: .now)

            let found = try await fixture.store.storedUserIDs(tenantID: contoso.id, among: ["u2", "u3", "u4", "never-synced"])
            #expect(found == ["u2", "u3"], "another tenant's user and an unknown id are not stored users of this tenant")
            #expect(try await fixture.store.storedUserIDs(tenantID: contoso.id, among: []).isEmpty)
        }
    }
}
