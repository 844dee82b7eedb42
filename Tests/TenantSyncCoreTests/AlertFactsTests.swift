import Foundation
import Testing
import TenantSyncCore

@Suite("Alert facts: one vocabulary, stable names, old rows readable")
struct AlertFactsTests {
    @Test("facts are written under the documented dotted names, with the service's display name beside it")
    func encodedNames() throws {
        let facts = AlertFacts(
            tenantID: "t-1", tenantDomain: "contoso.example", service: .exchangeOnline, accountID: 42, grantID: 7, grantName: "graph",
            oauthError: "invalid_grant", aadstsCode: 70008, traceID: "trace", command: "tenantsyncctl renew 42"
        )
        let data = try JSONEncoder().encode(facts)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["tenant.domain"] as? String == "contoso.example")
        #expect(object["account.service"] as? String == "exchange-online")
        #expect(object["service.name"] as? String == "Exchange Online")
        #expect(object["grant.name"] as? String == "graph")
        #expect(object["aadsts.code"] as? Int == 70008)
        #expect(object["trace.id"] as? String == "trace")
        #expect(object["command"] as? String == "tenantsyncctl renew 42")
        #expect(object.count == 11, "absent facts are left out: \(object.keys.sorted())")
        #expect(try JSONDecoder().decode(AlertFacts.self, from: data) == facts, "what is written reads back")
    }

    @Test("a token alert stored before the shared vocabulary (underscore keys, numbers as text) reads as the same facts")
    func legacyTokenRow() throws {
        let old = #"""
            {"tenant_id":"t-1","tenant_domain":"peer7.onmicrosoft.com","service":"exchange-online","account_id":"12","grant_id":"3",
             "grant":"graph","reason":"grant-revoked","error":"invalid_grant","aadsts_code":"70008","trace_id":"abc","correlation_id":"def",
             "command":"tenantsyncctl renew 12"}
            """#
        let facts = try JSONDecoder().decode(AlertFacts.self, from: Data(old.utf8))
        #expect(facts.tenantDomain == "peer7.onmicrosoft.com")
        #expect(facts.service == .exchangeOnline)
        #expect(facts.accountID == 12 && facts.grantID == 3 && facts.grantName == "graph")
        #expect(facts.aadstsCode == 70008 && facts.traceID == "abc" && facts.correlationID == "def")
        #expect(facts.reason == "grant-revoked" && facts.command == "tenantsyncctl renew 12")
    }

    @Test("dotted keys of the first channel vocabulary, a held run's old command keys and an AADSTS-prefixed code read too")
    func legacyDottedAndHoldRows() throws {
        let dotted = #"{"tenant.domain":"contoso.com","account.service":"teams-chat","aadsts.code":"AADSTS50173","sync.run":"9","confirm":"c","discard":"d"}"#
        let facts = try JSONDecoder().decode(AlertFacts.self, from: Data(dotted.utf8))
        #expect(facts.tenantDomain == "contoso.com" && facts.service == .teamsChat && facts.aadstsCode == 50173 && facts.syncRun == 9)
        #expect(facts.confirmCommand == "c" && facts.discardCommand == "d")
    }

    @Test("unknown keys, wrong types and an unknown service are dropped, never an error")
    func toleratesWhatItDoesNotKnow() throws {
        let odd = #"{"tenant.domain":["x"],"account.service":"fax","account.id":"twelve","future.key":{"a":1},"grant.name":"ews"}"#
        let facts = try JSONDecoder().decode(AlertFacts.self, from: Data(odd.utf8))
        #expect(facts == AlertFacts(grantName: "ews"))
        #expect(try JSONDecoder().decode(AlertFacts.self, from: Data("[1,2]".utf8)) == AlertFacts(), "not an object: no facts")
    }

    @Test("entries list every present fact once, in reading order, under its key")
    func entries() {
        let facts = AlertFacts(tenantID: "t", service: .onedrive, aadstsCode: 70008, syncRun: 4)
        #expect(facts.entries.map(\.key.rawValue) == ["tenant.id", "account.service", "service.name", "aadsts.code", "sync.run"])
        #expect(facts.entries.map(\.value) == ["t", "onedrive", "OneDrive", "70008", "4"])
        #expect(facts.aadstsText == "AADSTS70008")
        // Every key that can be written can be listed: no fact is silently missing from the journal or the mail.
        let full = AlertFacts(
            tenantID: "a", tenantDomain: "b", service: .teamsChat, accountID: 1, accountState: .active, grantID: 2, grantName: "c",
            reason: "d", oauthError: "e", aadstsCode: 3, traceID: "f", correlationID: "g", failure: "h", resolvedIncidents: 4, command: "i",
            syncRun: 5, usersAdded: 6, groupsAdded: 7, usersBefore: 8, removedUsers: 9, removedGroups: 10, removedShare: "j", threshold: "k",
            confirmCommand: "l", discardCommand: "m", budgetUsed: 11, budgetLimit: 12, budgetMonth: "n", connector: "o",
            provisioningStep: "p", error: "q", credentialKind: "r", credentialAppID: "s", credentialExpires: "t", credentialDaysLeft: 13,
            credentialThumbprint: "u"
        )
        #expect(Set(full.entries.map(\.key)) == Set(AlertFacts.CodingKeys.allCases))
    }
}

@Suite("Articles in operator-facing sentences")
struct IndefiniteArticleTests {
    @Test("service names take the article of their sound", arguments: [
        (ServiceKind.exchangeOnline, "an Exchange Online"), (.exchangeOnlineInline, "an Exchange Online (Inline Mode)"),
        (.sharepointOnline, "a SharePoint Online"), (.onedrive, "a OneDrive"), (.teamsChat, "a Teams Chat"),
    ])
    func serviceNames(service: ServiceKind, expected: String) {
        #expect(service.displayNameWithArticle == expected)
    }

    @Test("TOML type names and other words")
    func words() {
        #expect(IndefiniteArticle.prefixed("int") == "an int")
        #expect(IndefiniteArticle.prefixed("array") == "an array")
        #expect(IndefiniteArticle.prefixed("string") == "a string")
        #expect(IndefiniteArticle.prefixed("hour") == "an hour")
        #expect(IndefiniteArticle.prefixed("unit") == "a unit")
    }
}
