import Foundation
import TenantSyncCore
import Testing
@testable import TenantSyncStore
import TenantSyncCore

@Suite("Alert facts in the store")
struct AlertFactsStorageTests {
    @Test("an alert's facts are stored as JSON under their dotted names and read back equal", arguments: StoreKind.allCases)
    func roundTrip(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
        let facts = AlertFacts(tenantID: "t", tenantDomain: "contoso.com", service: .sharepointOnline, accountID: 4, syncRun: 9, threshold: "20.0%")
        let stored = try await fixture.store.enqueueAlert(
            NewAlert(kind: "mass-deletion-held", severity: .warning, tenantID: "t", subject: "s", body: "b", facts: facts), channels: [], at: Date()
        )
        #expect(try await fixture.store.alert(id: stored.id)?.facts == facts)
        // Asked in SQL: the two engines print a text column differently (SQLite's escapes the quotes).
        let column = try await fixture.sql(#"""
            SELECT CASE WHEN details_json LIKE '%"tenant.domain":"contoso.com"%' AND details_json LIKE '%"sync.run":9%' THEN 'dotted' ELSE details_json END
            FROM alerts WHERE id = \#(stored.id)
            """#)
        #expect(column == ["dotted"], "\(column)")
        }
    }

    @Test("rows written by older versions (other keys, or not JSON at all) stay readable", arguments: StoreKind.allCases)
    func oldRowsStayReadable(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
        let oldToken = #"{"tenant_domain":"peer7.onmicrosoft.com","service":"exchange-online","grant":"graph","aadsts_code":"70008","trace_id":"abc"}"#
        var ids: [Int64] = []
        for details in [oldToken, "not json", ""] {
            // Written behind the store's back, as an older version left it (SQL both engines read alike).
            let row = try await fixture.sql("""
                INSERT INTO alerts (kind, severity, tenant_id, subject, body, details_json, created_at)
                VALUES ('token-invalid', 'critical', 't', 's', 'b', '\(details)', '2026-01-01T00:00:00.000Z') RETURNING id
                """)
            ids.append(try #require(row.first.flatMap { Int64($0) }))
        }
        let token = try #require(try await fixture.store.alert(id: ids[0]))
        #expect(token.facts == AlertFacts(tenantDomain: "peer7.onmicrosoft.com", service: .exchangeOnline, grantName: "graph", aadstsCode: 70008, traceID: "abc"))
        #expect(try await fixture.store.alert(id: ids[1])?.facts == AlertFacts())
        #expect(try await fixture.store.alert(id: ids[2])?.facts == AlertFacts())
        #expect(try await fixture.store.alerts(includeAcknowledged: true, limit: 10).count == 3)
        }
    }

    @Test("a second account of a service is refused in plain English", arguments: StoreKind.allCases)
    func duplicateAccountMessage(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
        let (tenant, _, _, _) = try await fixture.seedExchangeAccount()
        let error = await #expect(throws: TenantSyncError.self) {
            try await fixture.store.createAccount(tenantID: tenant.id, service: .exchangeOnline, appID: nil, licensingModel: nil)
        }
        #expect(error?.message == "The tenant already has an Exchange Online service account; renew or deprovision it instead.")
        }
    }
}
