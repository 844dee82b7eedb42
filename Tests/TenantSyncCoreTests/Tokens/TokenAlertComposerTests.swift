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
        // The facts every channel reads: typed, so the mail, the journal and hooks cannot miss one.
        #expect(alert.facts == AlertFacts(
            tenantID: "0b1c", tenantDomain: "contoso.example", service: .exchangeOnline, accountID: 42, grantID: 7, grantName: "graph",
            reason: "grant-revoked", oauthError: "invalid_grant", aadstsCode: 70008, traceID: "trace-abc", correlationID: "corr-def",
            command: "tenantsyncctl renew 42"
        ))
    }

    @Test("An unrecognized error that became permanent says so")
    func unrecognizedSaysSo() {
        let alert = TokenAlertComposer.tokenInvalid(subject, incident: incident, reason: .unrecognizedAfterRetries)
        #expect(alert.body.contains("does not recognize"))
    }

    @Test("The refresh-failing and renewed alerts name the account the same way")
    func otherTokenAlertsCarryTheSubject() {
        let failing = TokenAlertComposer.refreshFailing(
            subject, incident: incident, failure: TokenFailure(httpStatus: 503, traceID: "t-1")
        )
        #expect(failing.facts.tenantDomain == "contoso.example" && failing.facts.service == .exchangeOnline && failing.facts.grantName == "graph")
        #expect(failing.facts.traceID == "t-1" && failing.facts.failure != nil)
        let renewed = TokenAlertComposer.renewed(subject, accountState: .active, resolvedIncidents: 1)
        #expect(renewed.kind == "token-renewed")
        #expect(renewed.facts.accountState == .active && renewed.facts.resolvedIncidents == 1 && renewed.facts.accountID == 42)
    }
}
