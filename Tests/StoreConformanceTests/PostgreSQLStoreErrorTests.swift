import Foundation
import TenantSyncCore
@testable import TenantSyncPostgreSQL
import TestSupport
import Testing

/// What the PostgreSQL store reports when a statement fails or the store is closed.
@Suite("PostgreSQL store errors")
struct PostgreSQLStoreErrorTests {
    @Test func aFailedStatementIsNamedWithTheServersMessageAndNoBoundValue() async throws {
        try await StoreKind.postgresql.withStore { fixture in
            let first = "6f1e2c3a-0000-4000-8000-00000000000a"
            let second = "6f1e2c3a-0000-4000-8000-00000000000b"
            _ = try await fixture.store.upsertTenant(id: first, domain: "contoso.com", displayName: nil)
            let error = await #expect(throws: TenantSyncError.self) {
                try await fixture.store.upsertTenant(id: second, domain: "CONTOSO.com", displayName: "Contoso again")
            }
            #expect(error?.code == .storeUnavailable)
            #expect(error?.context["sqlstate"] == "23505", "a unique violation: \(String(describing: error))")
            #expect(error?.message.contains("duplicate key value") == true, "the server's message: \(String(describing: error))")
            let text = String(describing: error)
            #expect(!text.contains(second) && !text.contains("Contoso again"), "no bound value in the error: \(text)")
        }
    }

    @Test func aClosedStoreRefusesCallsClearly() async throws {
        try await StoreKind.postgresql.withStore { fixture in
            try await fixture.store.ping()
            try await fixture.store.close()
            let error = await #expect(throws: TenantSyncError.self) { try await fixture.store.tenants() }
            #expect(error?.context["reason"] == "closed")
        }
    }
}
