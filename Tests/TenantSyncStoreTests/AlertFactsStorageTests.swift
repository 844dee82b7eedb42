import Foundation
import GRDB
import Testing
@testable import TenantSyncStore
import TenantSyncCore

@Suite("Alert facts in the store")
struct AlertFactsStorageTests {
    @Test("an alert's facts are stored as JSON under their dotted names and read back equal")
    func roundTrip() async throws {
        let fixture = try StoreFixture()
        let facts = AlertFacts(tenantID: "t", tenantDomain: "contoso.com", service: .sharepointOnline, accountID: 4, syncRun: 9, threshold: "20.0%")
        let stored = try await fixture.store.enqueueAlert(
            NewAlert(kind: "mass-deletion-held", severity: .warning, tenantID: "t", subject: "s", body: "b", facts: facts), channels: [], at: Date()
        )
        #expect(try await fixture.store.alert(id: stored.id)?.facts == facts)
        let queue = try DatabaseQueue(path: fixture.databasePath)
        let column = try await queue.read { try String.fetchOne($0, sql: "SELECT details_json FROM alerts WHERE id = ?", arguments: [stored.id]) }
        #expect(column?.contains(#""tenant.domain":"contoso.com""#) == true && column?.contains(#""sync.run":9"#) == true, "\(column ?? "nil")")
        try queue.close()
    }

    @Test("rows written by older versions (other keys, or not JSON at all) stay readable")
    func oldRowsStayReadable() async throws {
        let fixture = try StoreFixture()
        let queue = try DatabaseQueue(path: fixture.databasePath)
        let oldToken = #"{"tenant_domain":"peer7.onmicrosoft.com","service":"exchange-online","grant":"graph","aadsts_code":"70008","trace_id":"abc"}"#
        let ids: [Int64] = try await queue.write { db in
            var ids: [Int64] = []
            for details in [oldToken, "not json", ""] {
                try db.execute(
                    sql: """
                        INSERT INTO alerts (kind, severity, tenant_id, subject, body, details_json, created_at)
                        VALUES ('token-invalid', 'critical', 't', 's', 'b', ?, ?)
                        """,
                    arguments: [details, Timestamp.text(Date())]
                )
                ids.append(db.lastInsertedRowID)
            }
            return ids
        }
        try queue.close()
        let token = try #require(try await fixture.store.alert(id: ids[0]))
        #expect(token.facts == AlertFacts(tenantDomain: "peer7.onmicrosoft.com", service: .exchangeOnline, grantName: "graph", aadstsCode: 70008, traceID: "abc"))
        #expect(try await fixture.store.alert(id: ids[1])?.facts == AlertFacts())
        #expect(try await fixture.store.alert(id: ids[2])?.facts == AlertFacts())
        #expect(try await fixture.store.alerts(includeAcknowledged: true, limit: 10).count == 3)
    }

    @Test("a second account of a service is refused in plain English")
    func duplicateAccountMessage() async throws {
        let fixture = try StoreFixture()
        let (tenant, _, _, _) = try await fixture.seedExchangeAccount()
        let error = await #expect(throws: TenantSyncError.self) {
            try await fixture.store.createAccount(tenantID: tenant.id, service: .exchangeOnline, appID: nil, licensingModel: nil)
        }
        #expect(error?.message == "The tenant already has an Exchange Online service account; renew or deprovision it instead.")
    }
}
