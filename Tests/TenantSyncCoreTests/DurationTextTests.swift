import Testing
import TenantSyncCore

@Suite("Durations as operators write them")
struct DurationTextTests {
    @Test(arguments: [
        ("90s", Duration.seconds(90)),
        ("10m", .seconds(600)),
        ("2h", .seconds(7_200)),
        ("1d", .seconds(86_400)),
        ("1h30m", .seconds(5_400)),
        ("250ms", .milliseconds(250)),
    ])
    func parsesUnits(text: String, expected: Duration) {
        #expect(Duration(text: text) == expected, "\(text) should parse to \(expected)")
    }

    @Test(arguments: ["", "10", "m", "10x", "1.5h", "-5s", "10m5", " 10m"])
    func refusesMalformedText(text: String) {
        #expect(Duration(text: text) == nil, "\(text.debugDescription) must not parse")
    }

    @Test func rendersCompactly() {
        #expect(Duration.seconds(5_400).shortText == "1h30m")
        #expect(Duration.seconds(90).shortText == "1m30s")
        #expect(Duration.milliseconds(250).shortText == "250ms")
    }
}

@Suite("Secrets never print themselves")
struct SecretTests {
    @Test func interpolationAndDumpAreRedacted() {
        let secret = Secret("eyJ0eXAiOiJKV1Qi.very-secret")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("very-secret"), "dump() leaked the secret: \(dumped)")
        #expect(secret.reveal == "eyJ0eXAiOiJKV1Qi.very-secret")
    }
}

@Suite("Services")
struct ServiceKindTests {
    @Test func pinnedNamesAndNotices() {
        #expect(ServiceKind.allCases.map(\.rawValue) == [
            "exchange-online", "exchange-online-inline", "sharepoint-online", "onedrive", "teams-chat",
        ])
        #expect(ServiceKind.exchangeOnline.protectedNotice == "Exchange Online protected.")
        #expect(ServiceKind.onedrive.protectedNotice == "OneDrive protected.")
        #expect(ServiceKind.exchangeOnlineInline.protectedNotice == "Successfully created a service account and synced data.")
        #expect(ServiceKind.allCases.filter(\.sharesDirectoryScope) == [.exchangeOnline, .sharepointOnline, .onedrive])
    }
}
