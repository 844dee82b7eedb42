import Foundation
import Testing
import TenantSyncCore

@Suite("Token alert wording")
struct TokenAlertComposerTests {
    let subject = TokenAlertComposer.Subject(
        tenantID: "0b1c", tenantDomain: "contoso.example", service: .exchangeOnline, accountID: 42, grantID: 7, grantName: "graph"
    )
    let incident = Incident(
        id: 3, grantID: 7, accountID: 42, kind: .tokenInvalid, error: "invalid_grant", aadstsCode: 70008,
        traceID: "trace-abc", correlationID: "corr-def", firstSeenAt: Date(timeIntervalSince1970: 0),
        lastSeenAt: Date(timeIntervalSince1970: 0), occurrences: 1, resolvedAt: nil
    )

    @Test("The token-invalid alert names tenant, service, grant, code, trace id and the command")
    func tokenInvalid() {
        let alert = TokenAlertComposer.tokenInvalid(subject, incident: incident, reason: .grantRevoked)
        #expect(alert.kind == "token-invalid")
        #expect(alert.severity == .critical)
        #expect(alert.incidentID == 3)
        for needle in ["contoso.example", "Exchange Online", "\"graph\"", "AADSTS70008", "trace-abc", "tenantsyncctl renew 42", "cannot be protected"] {
            #expect(alert.body.contains(needle), "body lacks \(needle)")
        }
        #expect(alert.subject.contains("AADSTS70008"))
        let details = try? JSONSerialization.jsonObject(with: Data(alert.detailsJSON.utf8)) as? [String: String]
        #expect(details?["aadsts_code"] == "70008")
        #expect(details?["command"] == "tenantsyncctl renew 42")
    }

    @Test("An unrecognized error that became permanent says so")
    func unrecognizedSaysSo() {
        let alert = TokenAlertComposer.tokenInvalid(subject, incident: incident, reason: .unrecognizedAfterRetries)
        #expect(alert.body.contains("does not recognize"))
    }

    @Test("Details are valid JSON even with quotes and control characters")
    func detailsEscape() throws {
        let odd = TokenAlertComposer.Subject(
            tenantID: "t", tenantDomain: "a\"b\\c\nd\u{1}", service: .teamsChat, accountID: 1, grantID: 2, grantName: "app"
        )
        let alert = TokenAlertComposer.renewed(odd, accountState: .active, resolvedIncidents: 1)
        let details = try #require(try JSONSerialization.jsonObject(with: Data(alert.detailsJSON.utf8)) as? [String: String])
        #expect(details["tenant_domain"] == "a\"b\\c\nd\u{1}")
        #expect(alert.kind == "token-renewed")
    }
}
