import Foundation
import TenantSyncCore

/// Turns an alert into the mail the administrators receive.
///
/// A `token-invalid` alert gets the full explanation the console's notification
/// mail gives: which tenant, service and grant, that protection stops while the
/// token is invalid, how to restore it (`tenantsyncctl renew ID`), plus the AADSTS
/// code and Microsoft's trace id. Other kinds carry the alert's own subject and body
/// with the same facts block.
public struct AlertMailComposer: Sendable {
    public var from: String
    public var recipients: [String]
    /// The name of the CLI in the instructions (`tenantsyncctl`).
    public var controlCommand: String

    public init(from: String, recipients: [String], controlCommand: String = "tenantsyncctl") {
        self.from = from
        self.recipients = recipients
        self.controlCommand = controlCommand
    }

    /// The mail for one alert.
    public func compose(_ alert: Alert) -> MailMessage {
        let (subject, text) = alert.kind == Incident.Kind.tokenInvalid.rawValue
            ? tokenInvalid(alert)
            : (alert.subject, alert.body)
        let body = text + "\n\n" + factsBlock(alert) + "\n-- \ntenantsyncd\n"
        return MailMessage(
            from: from, recipients: recipients, subject: "[tenantsync] " + subject, body: body, date: alert.createdAt,
            extraHeaders: [("X-Tenantsync-Alert-Kind", alert.kind), ("X-Tenantsync-Alert-Id", String(alert.id))]
        )
    }

    private func tokenInvalid(_ alert: Alert) -> (String, String) {
        let facts = alert.facts
        let service = facts.service?.displayName ?? "service"
        let tenant = tenantName(alert)
        let grant = facts.grantName.map { " (grant \($0))" } ?? ""
        let code = facts.aadstsText.map { " (\($0))" } ?? ""
        let account = alert.accountID ?? facts.accountID
        let command = facts.command ?? "\(controlCommand) renew \(account.map(String.init) ?? "ACCOUNT-ID")"
        let subject = "Access token invalid: \(service) for \(tenant)\(code)"
        let body = """
            The access token of the \(service) service account of \(tenant)\(grant) is invalid.

            While it is invalid, \(service) cannot be protected: threat and data-loss \
            scanning of this service stop for the tenant.

            Re-create the token to restore protection. On the tenantsync server, run:

                \(command)

            and complete the consent as a Global Administrator of \(tenant).
            """
        return (subject, body)
    }

    /// Every fact of the alert, one labelled row each, then the alert's own identity.
    private func factsBlock(_ alert: Alert) -> String {
        let facts = alert.facts
        var rows: [(String, String)] = []
        if let tenant = alert.tenantID ?? facts.tenantID {
            rows.append(("Tenant", facts.tenantDomain.map { "\($0) (\(tenant))" } ?? tenant))
        } else if let domain = facts.tenantDomain {
            rows.append(("Tenant", domain))
        }
        if let service = facts.service { rows.append(("Service", "\(service.displayName) (\(service.rawValue))")) }
        if facts.accountID == nil, let account = alert.accountID { rows.append(("Account id", String(account))) }
        for entry in facts.entries {
            switch entry.key {
            case .tenantID, .tenantDomain, .service, .serviceName: continue
            case .aadstsCode: rows.append((entry.label, facts.aadstsText ?? entry.value))
            default: rows.append((entry.label, entry.value))
            }
        }
        rows.append(("Severity", alert.severity.rawValue))
        rows.append(("Alert", "\(alert.id) (\(alert.kind)), raised \(ISO8601DateFormatter().string(from: alert.createdAt))"))
        let width = rows.map(\.0.count).max() ?? 0
        return "Details\n" + rows.map { "  \($0.0.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.1)" }.joined(separator: "\n")
    }

    private func tenantName(_ alert: Alert) -> String {
        alert.facts.tenantDomain ?? alert.tenantID ?? alert.facts.tenantID ?? "the tenant"
    }
}
