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
        let facts = Dictionary(AlertDetails.facts(alert.detailsJSON), uniquingKeysWith: { first, _ in first })
        let (subject, text) = alert.kind == Incident.Kind.tokenInvalid.rawValue
            ? tokenInvalid(alert, facts: facts)
            : (alert.subject, alert.body)
        let body = text + "\n\n" + factsBlock(alert, facts: facts) + "\n-- \ntenantsyncd\n"
        return MailMessage(
            from: from, recipients: recipients, subject: "[tenantsync] " + subject, body: body, date: alert.createdAt,
            extraHeaders: [("X-Tenantsync-Alert-Kind", alert.kind), ("X-Tenantsync-Alert-Id", String(alert.id))]
        )
    }

    private func tokenInvalid(_ alert: Alert, facts: [String: String]) -> (String, String) {
        let service = serviceName(facts)
        let tenant = tenantName(alert, facts: facts)
        let grant = facts["grant.name"].map { " (grant \($0))" } ?? ""
        let account = alert.accountID.map(String.init) ?? facts["account.id"] ?? "ACCOUNT-ID"
        let subject = "Access token invalid: \(service) for \(tenant)"
        let body = """
            The access token of the \(service) service account of \(tenant)\(grant) is invalid.

            While it is invalid, \(service) cannot be protected: threat and data-loss \
            scanning of this service stop for the tenant.

            Re-create the token to restore protection. On the tenantsync server, run:

                \(controlCommand) renew \(account)

            and complete the consent as a Global Administrator of \(tenant).
            """
        return (subject, body)
    }

    private func factsBlock(_ alert: Alert, facts: [String: String]) -> String {
        var rows: [(String, String)] = []
        if let tenant = alert.tenantID ?? facts["tenant.id"] {
            rows.append(("Tenant", facts["tenant.domain"].map { "\($0) (\(tenant))" } ?? tenant))
        }
        if let service = facts["account.service"] {
            rows.append(("Service", "\(ServiceKind(rawValue: service)?.displayName ?? service) (\(service))"))
        }
        if let account = alert.accountID { rows.append(("Account id", String(account))) }
        if let grant = facts["grant.name"] { rows.append(("Grant", grant)) }
        if let error = facts["oauth.error"] { rows.append(("Error", error)) }
        if let code = facts["aadsts.code"] { rows.append(("AADSTS code", code.hasPrefix("AADSTS") ? code : "AADSTS" + code)) }
        if let trace = facts["trace.id"] { rows.append(("Microsoft trace id", trace)) }
        if let correlation = facts["correlation.id"] { rows.append(("Correlation id", correlation)) }
        if let run = facts["sync.run"] { rows.append(("Sync run", run)) }
        rows.append(("Severity", alert.severity.rawValue))
        rows.append(("Alert", "\(alert.id) (\(alert.kind)), raised \(ISO8601DateFormatter().string(from: alert.createdAt))"))
        let width = rows.map(\.0.count).max() ?? 0
        return "Details\n" + rows.map { "  \($0.0.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.1)" }.joined(separator: "\n")
    }

    private func serviceName(_ facts: [String: String]) -> String {
        guard let raw = facts["account.service"] else { return "service" }
        return ServiceKind(rawValue: raw)?.displayName ?? raw
    }

    private func tenantName(_ alert: Alert, facts: [String: String]) -> String {
        facts["tenant.domain"] ?? alert.tenantID ?? facts["tenant.id"] ?? "the tenant"
    }
}
