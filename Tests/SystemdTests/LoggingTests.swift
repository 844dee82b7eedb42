import Foundation
import Logging
import Systemd
import Testing

#if canImport(Glibc)
import Glibc
#endif

struct LoggingTests {
    @Test(arguments: [
        ("tenant.id", "TENANT"), ("account.service", "SERVICE"), ("account.id", "ACCOUNT_ID"), ("grant.name", "GRANT"),
        ("sync.run", "SYNC_RUN"), ("aadsts.code", "AADSTS_CODE"), ("message.id", "MESSAGE_ID"),
        ("tenant.domain", "TENANT_DOMAIN"), ("trace.id", "TRACE_ID"), ("http.status-code", "HTTP_STATUS_CODE"),
        ("priority", "META_PRIORITY"), ("message", "META_MESSAGE"), ("_pid", "F__PID"), ("9lives", "F_9LIVES"),
    ])
    func metadataKeysMapToJournalFields(key: String, field: String) {
        #expect(JournalFieldName.forMetadataKey(key) == field)
    }

    @Test func levelsMapToSyslogPriorities() {
        #expect(JournalPriority(.trace) == .debug)
        #expect(JournalPriority(.debug) == .debug)
        #expect(JournalPriority(.info) == .info)
        #expect(JournalPriority(.notice) == .notice)
        #expect(JournalPriority(.warning) == .warning)
        #expect(JournalPriority(.error) == .error)
        #expect(JournalPriority(.critical) == .critical)
    }

    @Test func stderrLineIsOneLineWithSortedQuotedMetadata() {
        let line = StderrLogHandler.format(
            level: .warning, message: "Alert delivery failed\nretrying",
            pairs: LogMetadataFlattener.flatten(["tenant.id": "t1", "error": "connection refused", "client_secret": "s3cr3t"])
        )
        #expect(line == #"warning Alert delivery failed\nretrying client_secret=<redacted> error="connection refused" tenant.id=t1"#)
    }

    @Test func journalStreamIsRecognisedOnlyWhenDeviceAndInodeMatchStderr() {
        var status = stat()
        #expect(fstat(2, &status) == 0)
        #expect(LogHandlerFactory.stderrIsJournalStream(environmentValue: "\(status.st_dev):\(status.st_ino)"))
        #expect(!LogHandlerFactory.stderrIsJournalStream(environmentValue: "\(status.st_dev):\(status.st_ino + 1)"))
        #expect(!LogHandlerFactory.stderrIsJournalStream(environmentValue: "garbage"))
        #expect(!LogHandlerFactory.stderrIsJournalStream(environmentValue: nil))
    }

    @Test func factoryPicksTheHandlerForTheMode() {
        #expect(LogHandlerFactory(mode: .journal).makeHandler(label: "x") is JournalLogHandler)
        #expect(LogHandlerFactory(mode: .stderr).makeHandler(label: "x") is StderrLogHandler)
        let level = LogHandlerFactory(mode: .stderr, logLevel: .debug).makeHandler(label: "x").logLevel
        #expect(level == .debug)
    }
}
