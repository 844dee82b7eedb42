import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Picks the daemon's log handler: native journal entries under journald, plain stderr lines otherwise.
///
/// Only `@main` bootstraps logging: `LoggingSystem.bootstrap(LogHandlerFactory(mode: .automatic).makeHandler)`.
public struct LogHandlerFactory: Sendable {
    /// Where log entries go.
    public enum Mode: String, Sendable, CaseIterable {
        /// The journal when stderr is connected to it (`JOURNAL_STREAM`), stderr otherwise.
        case automatic = "auto"
        /// Always the journal (falls back to stderr per entry if journald refuses it).
        case journal
        /// Always stderr lines.
        case stderr
    }

    public var mode: Mode
    public var syslogIdentifier: String
    public var logLevel: Logger.Level

    public init(mode: Mode = .automatic, syslogIdentifier: String = "tenantsyncd", logLevel: Logger.Level = .info) {
        self.mode = mode
        self.syslogIdentifier = syslogIdentifier
        self.logLevel = logLevel
    }

    /// Whether the chosen mode writes to the journal in this process.
    public var usesJournal: Bool {
        switch mode {
        case .journal: true
        case .stderr: false
        case .automatic: Self.stderrIsJournalStream()
        }
    }

    /// Makes a handler for a logger label; pass this to `LoggingSystem.bootstrap`.
    public func makeHandler(label: String) -> any LogHandler {
        makeHandler(label: label, useJournal: usesJournal)
    }

    func makeHandler(label: String, useJournal: Bool) -> any LogHandler {
        if useJournal {
            var handler = JournalLogHandler(label: label, syslogIdentifier: syslogIdentifier)
            handler.logLevel = logLevel
            return handler
        }
        var handler = StderrLogHandler(label: label)
        handler.logLevel = logLevel
        return handler
    }

    /// Whether stderr is the stream systemd connected to the journal (`JOURNAL_STREAM=device:inode`).
    ///
    /// systemd sets the variable for the service's own stdout/stderr; a child whose stderr
    /// was redirected inherits it, so the device and inode must match `fstat(2)` of fd 2.
    public static func stderrIsJournalStream(environmentValue: String? = getenv("JOURNAL_STREAM").map { String(cString: $0) }) -> Bool {
        guard let environmentValue else { return false }
        let parts = environmentValue.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(2, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }
}
