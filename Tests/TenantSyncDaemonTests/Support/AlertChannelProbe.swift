import ControlPlane
import Foundation
import Systemd
import Testing
import TestSupport

/// What one alert looked like on each channel of a real daemon: the mail a real SMTP server
/// received, the journal entry a real journald stored, and the JSON the `record` hook wrote.
struct DeliveredAlert {
    var alert: AlertInfo
    var mailSubject: String
    var mailBody: String
    /// Every field of the journal entry (`journalctl -o json`).
    var journal: [String: Any]
    /// The hook's JSON object and its `details`.
    var hook: [String: Any]
    var hookDetails: [String: Any]

    /// The value of a row of the mail's details block (`  Microsoft trace id  0d2e…`).
    func mailRow(_ label: String) -> String? {
        for line in mailBody.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix(label + "  ") else { continue }
            return String(trimmed.dropFirst(label.count).drop { $0 == " " })
        }
        return nil
    }

    /// Checks that each fact reached every channel: the hook's `details[key]`, the journal field the key maps to,
    /// and the mail's text (`mailText`, default the value itself; the mail dresses some values up).
    func expectFact(_ key: String, _ value: String, mailText: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let hookValue = hookDetails[key].map { "\($0)" }
        #expect(hookValue == value, "hook details[\(key)] of \(alert.kind): \(hookDetails)", sourceLocation: sourceLocation)
        let field = JournalFieldName.forMetadataKey(key)
        #expect(journal[field] as? String == value, "journal \(field) of \(alert.kind): \(journal)", sourceLocation: sourceLocation)
        let text = mailText ?? value
        #expect(mailBody.contains(text), "the \(alert.kind) mail lacks \(text):\n\(mailBody)", sourceLocation: sourceLocation)
    }
}

/// Reads one alert back from the three channels once the outbox recorded every delivery.
struct AlertChannelProbe {
    let harness: ProvisioningHarness
    let smtp: PlainSMTPServer

    /// The `[smtp]` table that sends every alert to `smtp` (plain SMTP on loopback).
    static func smtpConfig(_ smtp: PlainSMTPServer) -> String {
        """
        [smtp]
        host = "127.0.0.1"
        port = \(smtp.port)
        security = "none"
        from = "tenantsync@example.org"
        to = ["admin@example.org"]
        """
    }

    /// Waits until the first alert matching `match` is delivered on the journal, SMTP and the hook, then reads each.
    func delivered(
        _ what: String, timeout: Duration = .seconds(60), where match: @escaping (AlertInfo) -> Bool
    ) async throws -> DeliveredAlert {
        let channels: Set<String> = ["journal", "smtp", "hook:record"]
        let done = try await eventually(timeout: timeout, "\(what) delivered on every channel") {
            guard let alert = try await harness.alerts().first(where: match) else { return false }
            let delivered = Set(alert.deliveries.filter { $0.state == .delivered }.map(\.channel))
            return channels.isSubset(of: delivered)
        }
        let alerts = try await harness.alerts()
        try #require(done, "\(what) was not delivered on \(channels.sorted()): \(alerts.map { "\($0.kind) \($0.deliveries)" })")
        let alert = try #require(alerts.first(where: match))

        let mails = try smtp.messages().filter { $0["alert_id"] as? String == String(alert.id) }
        let mail = try #require(mails.first, "no mail for alert \(alert.id) (\(what))")
        let entries = try await harness.daemon.journalEntries(matching: ["ALERT_ID=\(alert.id)"])
        let entry = try #require(entries.first, "no journal entry for alert \(alert.id) (\(what))")
        let lines = ((try? String(contentsOfFile: harness.directory + "/alerts.jsonl", encoding: .utf8)) ?? "").split(separator: "\n")
        let hook = try #require(
            lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                .first { ($0["id"] as? NSNumber)?.int64Value == alert.id },
            "the hook never received alert \(alert.id) (\(what))"
        )
        return DeliveredAlert(
            alert: alert, mailSubject: mail["subject"] as? String ?? "", mailBody: mail["body"] as? String ?? "", journal: entry,
            hook: hook, hookDetails: hook["details"] as? [String: Any] ?? [:]
        )
    }
}
