import Alerting
import Foundation
import Systemd
import TenantSyncCore
import Testing

/// Every fact an alert carries reaches every channel: a mail row, a journal field, a hook `details` key.
struct AlertFactsChannelsTests {
    /// An alert with every fact set, so a fact a channel forgets cannot hide.
    static func alertWithEveryFact() -> Alert {
        let facts = AlertFacts(
            tenantID: "t-1", tenantDomain: "contoso.com", service: .exchangeOnlineInline, accountID: 12, accountState: .provisioning, grantID: 3,
            grantName: "mail-flow", reason: "consent-missing", oauthError: "invalid_grant", aadstsCode: 65001, traceID: "trace-1",
            correlationID: "corr-1", failure: "HTTP 503", resolvedIncidents: 2, command: "tenantsyncctl provision exchange-online-inline --tenant contoso.com",
            syncRun: 5, usersAdded: 6, groupsAdded: 7, usersBefore: 30, removedUsers: 8, removedGroups: 1, removedShare: "26.7%", threshold: "20.0%",
            confirmCommand: "confirm-cmd", discardCommand: "discard-cmd", budgetUsed: 32, budgetLimit: 40, budgetMonth: "2026-12",
            connector: "tenantsync Inline Protection (outbound)", provisioningStep: "finish", error: "Exchange answered 403."
        )
        return Alert(
            id: 9, kind: "provisioning-failed", severity: .warning, tenantID: "t-1", accountID: 12, grantID: 3, incidentID: nil,
            subject: "Exchange Online (Inline Mode) provisioning failed at the mail flow.", body: "Exchange answered 403.", facts: facts,
            createdAt: Date(timeIntervalSince1970: 1_795_000_000), acknowledgedAt: nil
        )
    }

    @Test("each fact is a journal field named after its dotted key")
    func journalCarriesEveryFact() {
        let alert = Self.alertWithEveryFact()
        let fields = Dictionary(JournalAlertChannel.entry(for: alert).fields.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })
        for entry in alert.facts.entries {
            let name = JournalFieldName.forMetadataKey(entry.key.rawValue)
            #expect(fields[name] == entry.value, "journal field \(name) for \(entry.key.rawValue)")
        }
        #expect(fields["SERVICE_NAME"] == "Exchange Online (Inline Mode)" && fields["TENANT_DOMAIN"] == "contoso.com")
    }

    @Test("each fact is in the hook's details, typed")
    func hookCarriesEveryFact() throws {
        let alert = Self.alertWithEveryFact()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(HookAlertChannel.json(alert))) as? [String: Any])
        let details = try #require(object["details"] as? [String: Any])
        for entry in alert.facts.entries {
            #expect(details[entry.key.rawValue].map { "\($0)" } == entry.value, "hook details[\(entry.key.rawValue)]")
        }
        #expect(details["aadsts.code"] as? Int == 65001 && details["account.id"] as? Int == 12, "numbers stay numbers: \(details)")
        #expect(Set(details.keys) == Set(alert.facts.entries.map(\.key.rawValue)))
    }

    @Test("each fact has a row in the mail's details block")
    func mailCarriesEveryFact() {
        let alert = Self.alertWithEveryFact()
        let body = AlertMailComposer(from: "a@example.org", recipients: ["b@example.org"]).compose(alert).body
        #expect(body.contains("  Tenant  ") && body.contains("contoso.com (t-1)"), "\(body)")
        #expect(body.contains("Exchange Online (Inline Mode) (exchange-online-inline)"), "\(body)")
        #expect(body.contains("AADSTS65001"), "\(body)")
        for entry in alert.facts.entries where ![.tenantID, .tenantDomain, .service, .serviceName, .aadstsCode].contains(entry.key) {
            let row = body.split(separator: "\n").first { $0.drop { $0 == " " }.hasPrefix(entry.label + "  ") }
            #expect(row?.hasSuffix("  " + entry.value) == true, "no mail row \(entry.label): \(entry.value) in\n\(body)")
        }
    }
}
