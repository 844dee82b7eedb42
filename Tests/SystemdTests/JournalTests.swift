import Foundation
import Logging
import Systemd
import TenantSyncCore
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Entries written natively to a real systemd-journald and read back with `journalctl -o json`.
@Suite(.serialized)
struct JournalTests {
    @Test func writerSendsStandardAndCustomFields() async throws {
        let run = UUID().uuidString
        try await Journald.with {
            try JournalWriter().send(JournalEntry(
                message: "Access token invalid", priority: .critical, messageID: .tokenInvalid, syslogIdentifier: "tenantsyncd",
                codeFile: "TokenRefresher.swift", codeLine: 42, codeFunction: "refresh(grant:)",
                fields: [("TENANT", "contoso.com"), ("DETAIL", "line one\nline two – ünïcødé"), ("TEST_RUN", run)]
            ))
            let entries = try await Journald.entries(matching: ["MESSAGE_ID=\(MessageID.tokenInvalid)", "TEST_RUN=\(run)"])
            let entry = try #require(entries.first, "the entry must be in the journal")
            #expect(entries.count == 1)
            #expect(entry["MESSAGE"] as? String == "Access token invalid")
            #expect(entry["PRIORITY"] as? String == "2")
            #expect(entry["SYSLOG_IDENTIFIER"] as? String == "tenantsyncd")
            #expect(entry["CODE_FILE"] as? String == "TokenRefresher.swift")
            #expect(entry["CODE_LINE"] as? String == "42")
            #expect(entry["CODE_FUNC"] as? String == "refresh(grant:)")
            #expect(entry["TENANT"] as? String == "contoso.com")
            #expect(entry["DETAIL"] as? String == "line one\nline two – ünïcødé", "multi-line UTF-8 values must survive intact")
            #expect(entry["_PID"] as? String == String(getpid()))
        }
    }

    @Test func logHandlerMapsMetadataLevelAndMessageID() async throws {
        let run = UUID().uuidString
        try await Journald.with {
            var logger = Logger(label: "tenantsync.tokens") { JournalLogHandler(label: $0) }
            logger[metadataKey: "test.run"] = "\(run)"
            logger.error(
                "Grant refused by Microsoft",
                metadata: [
                    "tenant.id": "8f3c0e51-0000-4000-8000-000000000001", "account.service": "exchange-online", "account.id": "17",
                    "grant.name": "graph", "sync.run": "99", "aadsts.code": "70008", "trace.id": "a-trace",
                    "message.id": "\(MessageID.tokenInvalid)", "password": "hunter2-clear-password",
                ]
            )
            let entries = try await Journald.entries(matching: ["TEST_RUN=\(run)"])
            let entry = try #require(entries.first, "the log entry must be in the journal")
            #expect(entry["MESSAGE"] as? String == "Grant refused by Microsoft")
            #expect(entry["PRIORITY"] as? String == "3")
            #expect(entry["SYSLOG_IDENTIFIER"] as? String == "tenantsyncd")
            #expect(entry["MESSAGE_ID"] as? String == MessageID.tokenInvalid.rawValue)
            #expect(entry["TENANT"] as? String == "8f3c0e51-0000-4000-8000-000000000001")
            #expect(entry["SERVICE"] as? String == "exchange-online")
            #expect(entry["ACCOUNT_ID"] as? String == "17")
            #expect(entry["GRANT"] as? String == "graph")
            #expect(entry["SYNC_RUN"] as? String == "99")
            #expect(entry["AADSTS_CODE"] as? String == "70008")
            #expect(entry["TRACE_ID"] as? String == "a-trace")
            #expect(entry["LOGGER"] as? String == "tenantsync.tokens")
            #expect((entry["CODE_FILE"] as? String)?.hasSuffix("JournalTests.swift") == true)
            #expect(entry["CODE_FUNC"] as? String != nil)
            #expect(entry["PASSWORD"] as? String == "<redacted>")
            let raw = try await Journald.journalctl(["-o", "export", "--no-pager", "TEST_RUN=\(run)"])
            #expect(!raw.contains("hunter2-clear-password"), "a password must never reach the journal")
        }
    }

    @Test func writerFailsClearlyWithoutJournald() async throws {
        // No journald at all (the lock keeps other tests from starting one): the send must fail and say why,
        // where sd_journal_sendv alone would report success and lose the entry.
        try await Journald.without {
            #expect(!JournalWriter.isJournalAvailable)
            let error = #expect(throws: JournalWriter.Error.self) {
                try JournalWriter().send(JournalEntry(message: "probe"))
            }
            #expect(error?.errno == ENOENT)
            #expect(error?.description.contains("systemd-journald") == true, "\(String(describing: error))")
        }
    }
}
