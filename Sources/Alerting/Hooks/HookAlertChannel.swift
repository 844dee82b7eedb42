import Foundation
import TenantSyncCore

/// Delivers alerts by running a hook command with the alert as JSON on stdin.
///
/// The JSON object has `id`, `kind`, `severity`, `tenant_id`, `account_id`,
/// `grant_id`, `incident_id`, `subject`, `body`, `details` (the alert's ``AlertFacts``
/// under their dotted names, e.g. `tenant.domain`, `service.name`, `aadsts.code`,
/// `trace.id`, `command`; README "Alerts and their facts") and `created_at` (ISO 8601).
/// A non-zero exit, a signal or a timeout is a failed delivery.
///
/// The hook's environment is `PATH`, `LANG` and ``variables(_:hook:)``, nothing of the daemon's.
public struct HookAlertChannel: AlertChannel {
    public let command: HookCommand
    private let runner: HookRunner

    public init(command: HookCommand, runner: HookRunner = HookRunner()) {
        self.command = command
        self.runner = runner
    }

    public var name: String { "hook:\(command.name)" }

    public func accepts(kind: String) -> Bool {
        command.kinds?.contains(kind) ?? true
    }

    public func deliver(_ alert: Alert) async throws {
        try await runner.run(command, input: Self.json(alert), variables: Self.variables(alert, hook: command.name))
    }

    /// The `TENANTSYNC_*` variables a hook gets (documented in README's hooks section), so a hook can
    /// route an alert without parsing its JSON.
    public static func variables(_ alert: Alert, hook: String) -> [String: String] {
        [
            "TENANTSYNC_HOOK": hook,
            "TENANTSYNC_ALERT_ID": "\(alert.id)",
            "TENANTSYNC_ALERT_KIND": alert.kind,
            "TENANTSYNC_ALERT_SEVERITY": alert.severity.rawValue,
        ]
    }

    /// The alert as the JSON object hooks read.
    public static func json(_ alert: Alert) -> [UInt8] {
        var object: [String: Any] = [
            "id": alert.id, "kind": alert.kind, "severity": alert.severity.rawValue, "subject": alert.subject, "body": alert.body,
            "created_at": ISO8601DateFormatter().string(from: alert.createdAt),
        ]
        object["tenant_id"] = alert.tenantID ?? NSNull()
        object["account_id"] = alert.accountID.map { NSNumber(value: $0) } ?? NSNull()
        object["grant_id"] = alert.grantID.map { NSNumber(value: $0) } ?? NSNull()
        object["incident_id"] = alert.incidentID.map { NSNumber(value: $0) } ?? NSNull()
        object["details"] = (try? JSONEncoder().encode(alert.facts)).flatMap { try? JSONSerialization.jsonObject(with: $0) } ?? [String: Any]()
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Array(data) + [UInt8(ascii: "\n")]
    }
}
