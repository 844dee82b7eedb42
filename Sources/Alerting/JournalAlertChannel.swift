import Logging
import Systemd
import TenantSyncCore

/// Delivers alerts as native journal entries with the event's `MESSAGE_ID`.
///
/// The entry carries `TENANT`, `ACCOUNT_ID`, `ALERT_ID`, `ALERT_KIND`, `ALERT_SEVERITY`,
/// `INCIDENT_ID`, `ALERT_BODY` and every ``AlertFacts`` entry, its dotted key mapped by
/// `JournalFieldName` (`SERVICE`, `SERVICE_NAME`, `GRANT`, `AADSTS_CODE`, `TENANT_DOMAIN`,
/// `TRACE_ID`, `COMMAND`, …), which the catalog's `@FIELD@` substitutions use. Fails when
/// journald is not running, so the outbox retries.
public struct JournalAlertChannel: AlertChannel {
    public let name = "journal"
    private let writer: JournalWriter
    private let syslogIdentifier: String

    public init(writer: JournalWriter = JournalWriter(), syslogIdentifier: String = "tenantsyncd") {
        self.writer = writer
        self.syslogIdentifier = syslogIdentifier
    }

    public func accepts(kind: String) -> Bool { true }

    public func deliver(_ alert: Alert) async throws {
        try writer.send(Self.entry(for: alert, syslogIdentifier: syslogIdentifier))
    }

    /// The entry for an alert.
    public static func entry(for alert: Alert, syslogIdentifier: String = "tenantsyncd") -> JournalEntry {
        var fields: [(name: String, value: String)] = [
            ("ALERT_ID", String(alert.id)), ("ALERT_KIND", alert.kind), ("ALERT_SEVERITY", alert.severity.rawValue),
        ]
        var seen = Set(fields.map(\.name))
        func add(_ name: String, _ value: String?) {
            guard let value, !seen.contains(name) else { return }
            seen.insert(name)
            fields.append((name, value))
        }
        add("TENANT", alert.tenantID)
        add("ACCOUNT_ID", alert.accountID.map(String.init))
        add("GRANT_ID", alert.grantID.map(String.init))
        add("INCIDENT_ID", alert.incidentID.map(String.init))
        // Facts are typed and hold no secret; their journal names come from the same dotted keys the logs use.
        for entry in alert.facts.entries {
            add(JournalFieldName.forMetadataKey(entry.key.rawValue), entry.value)
        }
        add("ALERT_BODY", alert.body)
        return JournalEntry(
            message: alert.subject, priority: priority(alert.severity), messageID: MessageID.forKind(alert.kind),
            syslogIdentifier: syslogIdentifier, fields: fields
        )
    }

    static func priority(_ severity: Alert.Severity) -> JournalPriority {
        switch severity {
        case .info: .notice
        case .warning: .warning
        case .critical: .critical
        }
    }
}
