import Foundation
import Logging
import MicrosoftCloud
import TenantSyncCore

/// Exchange Online (Inline Mode): the mail flow configured through Exchange's admin API with the mail-flow grant.
extension Provisioner {
    /// Creates what is missing (inbound connector, transport rule, for `both` the outbound connector), enables the rule,
    /// then reads everything back. Idempotent: objects are looked up by name first.
    func configureMailFlow(account: ServiceAccount, tenant: Tenant, policy: String, direction: InlineDirection) async throws {
        // Idempotent, so a claims challenge half-way may run it again from the start with the new token.
        try await withGrantToken(account: account, named: "mail-flow") { token in
            try await configureMailFlow(account: account, tenant: tenant, policy: policy, direction: direction, token: token)
        }
    }

    private func configureMailFlow(account: ServiceAccount, tenant: Tenant, policy: String, direction: InlineDirection, token: Secret) async throws {
        let flow = InlineMailFlow(policy: policy)
        let comment = "Created by tenantsync for the Exchange Online (Inline Mode) service account \(account.id)."
        try await ensure(
            "InboundConnector", named: InlineMailFlow.inboundConnector, tenant: tenant, token: token, account: account,
            parameters: [
                "ConnectorType": .string("Partner"), "SenderDomains": .list(["*"]), "RequireTls": .bool(true),
                "RestrictDomainsToCertificate": .bool(true), "TlsSenderCertificateName": .string(InlineMailFlow.relayHost),
                "Comment": .string(comment),
            ]
        )
        if direction == .both {
            try await ensureOutboundConnector(account: account, tenant: tenant, token: token)
        }
        try await ensure(
            "TransportRule", named: flow.transportRule, tenant: tenant, token: token, account: account,
            parameters: [
                // Created disabled, enabled once the connectors exist: the policy "enabled on completion".
                "Enabled": .bool(false), "FromScope": .string("NotInOrganization"), "SentToScope": .string("InOrganization"),
                "SetHeaderName": .string(InlineMailFlow.policyHeader), "SetHeaderValue": .string(policy), "Comments": .string(comment),
            ]
        )
        try await run("Enable-TransportRule", ["Identity": .string(flow.transportRule)], tenant: tenant, token: token, account: account)

        // Read back what Exchange now holds.
        let inbound = try await run("Get-InboundConnector", ["Identity": .string(InlineMailFlow.inboundConnector)], tenant: tenant, token: token, account: account)
        guard inbound.first?.enabled != false else {
            throw TenantSyncError(.invalidArgument, "The inbound connector '\(InlineMailFlow.inboundConnector)' exists in Exchange Online but is disabled; enable it in the Exchange admin center and retry.")
        }
        let rule = try await run("Get-TransportRule", ["Identity": .string(flow.transportRule)], tenant: tenant, token: token, account: account)
        guard rule.first?.state == "Enabled" else {
            throw TenantSyncError(.invalidArgument, "The transport rule '\(flow.transportRule)' did not become enabled in Exchange Online (state \(rule.first?.state ?? "unknown")); retry the step.")
        }
        if direction == .both { try await verifyOutboundConnector(account: account, tenant: tenant, token: token) }
        try await recordDetails(account.id, [
            "mailFlow.inboundConnector": InlineMailFlow.inboundConnector, "mailFlow.transportRule": flow.transportRule,
            "mailFlow.verifiedAt": ISO8601DateFormatter().string(from: now()),
        ].merging(direction == .both ? ["mailFlow.outboundConnector": InlineMailFlow.outboundConnector] : [:]) { $1 })
        logger.info(
            "Inline mail flow configured",
            metadata: ["tenant.id": "\(tenant.id)", "account.id": "\(account.id)", "inline.direction": "\(direction.rawValue)"]
        )
    }

    func ensureOutboundConnector(account: ServiceAccount, tenant: Tenant, token: Secret) async throws {
        try await ensure(
            "OutboundConnector", named: InlineMailFlow.outboundConnector, tenant: tenant, token: token, account: account,
            parameters: [
                "ConnectorType": .string("Partner"), "UseMXRecord": .bool(false), "SmartHosts": .list([InlineMailFlow.relayHost]),
                "TlsSettings": .string("DomainValidation"), "TlsDomain": .string(InlineMailFlow.relayHost), "RecipientDomains": .list(["*"]),
                "Comment": .string("Created by tenantsync for the Exchange Online (Inline Mode) service account \(account.id)."),
            ]
        )
    }

    func verifyOutboundConnector(account: ServiceAccount, tenant: Tenant, token: Secret) async throws {
        let outbound = try await run("Get-OutboundConnector", ["Identity": .string(InlineMailFlow.outboundConnector)], tenant: tenant, token: token, account: account)
        guard outbound.first?.enabled != false else {
            throw TenantSyncError(.invalidArgument, "The outbound connector '\(InlineMailFlow.outboundConnector)' exists in Exchange Online but is disabled; enable it in the Exchange admin center and retry.")
        }
    }

    /// Creates the object unless one of that name exists.
    private func ensure(_ noun: String, named name: String, tenant: Tenant, token: Secret, account: ServiceAccount, parameters: [String: ExchangeParameter]) async throws {
        let existing = try await run("Get-\(noun)", [:], tenant: tenant, token: token, account: account)
        if existing.contains(where: { ($0.name ?? $0.identity)?.lowercased() == name.lowercased() }) { return }
        var all = parameters
        all["Name"] = .string(name)
        _ = try await run("New-\(noun)", all, tenant: tenant, token: token, account: account)
    }

    /// Runs one cmdlet; Exchange's refusals become operator-facing errors.
    @discardableResult
    private func run(_ cmdlet: String, _ parameters: [String: ExchangeParameter], tenant: Tenant, token: Secret, account: ServiceAccount) async throws -> [ExchangeObject] {
        do {
            return try await exchange.invoke(tenantID: tenant.id, cmdlet: cmdlet, parameters: parameters, accessToken: token)
        } catch let error as ExchangeAdminError {
            throw Self.operatorError(error, appID: account.appID ?? productApp.clientID, tenant: tenant)
        }
    }

    static func operatorError(_ error: ExchangeAdminError, appID: String, tenant: Tenant) -> TenantSyncError {
        let context = ["exchange.cmdlet": error.cmdlet, "http.status": "\(error.status ?? 0)", "tenant.id": tenant.id]
        switch error.status {
        case 403?:
            return TenantSyncError(
                .invalidArgument,
                "Exchange Online refused \(error.cmdlet) (HTTP 403: \(error.message)). The app \(appID) needs the Exchange Administrator role "
                    + "in \(tenant.domain) (Microsoft Entra ID > Roles and administrators > Exchange administrator) and the mail-flow permission; "
                    + "assign the role, then retry.",
                context: context
            )
        case 401?:
            return TenantSyncError(
                .invalidArgument,
                "Exchange Online did not accept the mail-flow token for \(error.cmdlet) (HTTP 401). Retry; if it persists, renew the account's grants.",
                context: context
            )
        default:
            return TenantSyncError(.invalidArgument, "Exchange Online could not run \(error.cmdlet): \(error.message). Retry the step.", context: context)
        }
    }


    // MARK: Upgrade for outbound protection

    /// The account, if it is an active Exchange Online (Inline Mode) account; `purpose` names what the caller asked for.
    func requireActiveInlineAccount(_ id: Int64, for purpose: String) async throws -> ServiceAccount {
        let account = try await requireAccount(id)
        guard account.service == .exchangeOnlineInline else {
            throw TenantSyncError(
                .invalidArgument,
                "Account \(id) is \(account.service.displayName); only Exchange Online (Inline Mode) accounts have \(purpose).",
                context: ["account.id": "\(id)", "account.service": account.service.rawValue]
            )
        }
        guard account.state == .active else {
            throw TenantSyncError(
                .invalidArgument, "Account \(id) is \(account.state.rawValue), not active; finish its provisioning (or renew it) before \(purpose).",
                context: ["account.id": "\(id)"]
            )
        }
        return account
    }

    func upgradeOutbound(id: Int64, logger: Logger) async throws -> ProvisioningStep {
        let account = try await requireActiveInlineAccount(id, for: "an outbound upgrade")
        guard account.inlineDirection != .both else {
            throw TenantSyncError(
                .invalidArgument, "Account \(id) already protects inbound and outbound messages; nothing to upgrade.",
                context: ["account.id": "\(id)"]
            )
        }
        let tenant = try await requireTenant(account.tenantID)
        try await withSession(accountID: account.id, refusal: "Account \(id) is being changed") {
            try await withGrantToken(account: account, named: "mail-flow") { token in
                try await ensureOutboundConnector(account: account, tenant: tenant, token: token)
                try await verifyOutboundConnector(account: account, tenant: tenant, token: token)
            }
            try requireSessionLease()
            try await store.setInlineMailFlow(accountID: id, policy: account.inlinePolicy ?? InlineMailFlowDefaults.policy, direction: .both)
            try await recordDetails(id, [
                "mailFlow.outboundConnector": InlineMailFlow.outboundConnector,
                "mailFlow.outboundUpgradedAt": ISO8601DateFormatter().string(from: now()),
            ])
        }
        let subject = "Exchange Online (Inline Mode) of \(tenant.domain) now protects outbound messages too."
        _ = try await store.enqueueAlert(
            NewAlert(
                kind: "inline-outbound-upgraded", severity: .info, tenantID: tenant.id, accountID: id, subject: subject,
                body: "The Exchange Online (Inline Mode) service account \(id) of \(tenant.domain) was upgraded from inbound-only to inbound "
                    + "and outbound protection: the outbound connector '\(InlineMailFlow.outboundConnector)' exists and is enabled in Exchange Online.",
                facts: AlertFacts(
                    tenantID: tenant.id, tenantDomain: tenant.domain, service: account.service, accountID: id,
                    command: "tenantsyncctl account \(id)", connector: InlineMailFlow.outboundConnector
                )
            ),
            channels: alertChannels, at: now()
        )
        logger.notice(
            "Inline account upgraded for outbound protection",
            metadata: ["tenant.id": "\(tenant.id)", "account.id": "\(id)", "account.service": "\(account.service.rawValue)"]
        )
        let current = try await requireAccount(id)
        return step(current, .complete, needsInput: false, message: subject)
    }
}
