import Logging
import TenantSyncCore

/// A swift-log handler that writes every entry natively to the journal.
///
/// Metadata become journal fields through ``JournalFieldName`` (`tenant.id` → `TENANT`,
/// `message.id` → `MESSAGE_ID`, `trace.id` → `TRACE_ID`), the level becomes
/// `PRIORITY`, and the code location is sent as `CODE_FILE`, `CODE_LINE`, `CODE_FUNC`.
/// The logger label is sent as `LOGGER`. If journald refuses an entry, the
/// handler falls back to one line on stderr, so nothing is lost silently.
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info

    private let label: String
    private let syslogIdentifier: String
    private let writer: JournalWriter

    public init(label: String, syslogIdentifier: String = "tenantsyncd", writer: JournalWriter = JournalWriter(), metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.syslogIdentifier = syslogIdentifier
        self.writer = writer
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let entry = makeEntry(event)
        do {
            try writer.send(entry)
        } catch {
            StderrLogHandler.write(line: StderrLogHandler.format(level: event.level, message: event.message.description, pairs: mergedPairs(event)))
        }
    }

    /// The journal entry for an event; exposed so the mapping can be tested without a journal.
    public func makeEntry(_ event: LogEvent) -> JournalEntry {
        var messageID: MessageID?
        var fields: [(name: String, value: String)] = [("LOGGER", label)]
        for (key, value) in mergedPairs(event) {
            let name = JournalFieldName.forMetadataKey(key)
            if name == "MESSAGE_ID" {
                messageID = MessageID(rawValue: value)
                if messageID == nil { fields.append(("META_MESSAGE_ID", value)) }
            } else {
                fields.append((name, value))
            }
        }
        return JournalEntry(
            message: event.message.description, priority: JournalPriority(event.level), messageID: messageID,
            syslogIdentifier: syslogIdentifier, codeFile: event.file, codeLine: event.line, codeFunction: event.function, fields: fields
        )
    }

    private func mergedPairs(_ event: LogEvent) -> [(key: String, value: String)] {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        if let error = event.error, merged["error"] == nil { merged["error"] = "\(error)" }
        return LogMetadataFlattener.flatten(merged)
    }
}
