import ControlPlane
import Foundation
import TenantSyncCore

/// A handler with fixed data for a few methods; the rest answer MethodNotImplemented.
struct TestControlHandler: PartialControlHandler {
    static let tenantID = "6b1c1f35-3a43-4f31-9c2e-0d3f0a9e6a10"
    static let now = Date(timeIntervalSince1970: 1_760_000_000)

    static let account = ServiceAccount(
        id: 7, tenantID: tenantID, service: .exchangeOnline, state: .tokenInvalid, appID: "app-1",
        createdAt: now, updatedAt: now
    )

    func status(context: ControlContext) async throws -> DaemonStatus {
        DaemonStatus(
            version: "9.9.9", startedAt: Self.now,
            accounts: AccountCounts(total: 2, active: 1, provisioning: 0, tokenInvalid: 1),
            degraded: [AccountRef(id: 7, tenantID: Self.tenantID, tenantDomain: "contoso.example", service: .exchangeOnline, state: .tokenInvalid)],
            nextSync: NextSync(tenantID: Self.tenantID, tenantDomain: "contoso.example", at: Self.now.addingTimeInterval(3600)),
            alertDelivery: [ChannelHealth(channel: "smtp", pending: 2, oldestPendingAt: Self.now, lastError: "connection refused")],
            unacknowledgedAlerts: 3, cluster: ClusterCounts(nodes: 3, alive: 2)
        )
    }

    func listAccounts(_ request: ListAccountsRequest, context: ControlContext) async throws -> AccountPage {
        let all = [
            AccountSummary(id: 7, tenantID: Self.tenantID, tenantDomain: "contoso.example", service: .exchangeOnline, state: .tokenInvalid, scope: .all, lastSyncAt: Self.now, nextSyncAt: Self.now.addingTimeInterval(86_400), nextRefreshAt: nil, openIncidents: 1),
            AccountSummary(id: 8, tenantID: Self.tenantID, tenantDomain: "contoso.example", service: .teamsChat, state: .active, scope: nil, lastSyncAt: nil, nextSyncAt: nil, nextRefreshAt: Self.now.addingTimeInterval(1800), openIncidents: 0),
        ]
        if let tenant = request.tenant, tenant != Self.tenantID, tenant != "contoso.example" {
            throw TenantSyncError(.tenantNotFound, "no tenant \(tenant)", context: ["tenant": tenant])
        }
        if let state = request.state, AccountState(rawValue: state) == nil {
            throw ControlError.invalidArgument("state", message: "unknown state \(state)")
        }
        // Enough of the daemon's filtering and paging to see the CLI pass its flags through.
        var selected = all.filter { request.state == nil || $0.state.rawValue == request.state }
        selected = selected.filter { request.after == nil || $0.id > Int64(request.after!)! }
        let page = Array(selected.prefix(request.limit ?? selected.count))
        return AccountPage(accounts: page, next: page.count < selected.count ? page.last.map { String($0.id) } : nil)
    }

    func account(id: Int64, context: ControlContext) async throws -> AccountDetail {
        guard id == 7 else {
            throw TenantSyncError(.accountNotFound, "no account \(id)", context: ["account.id": String(id)])
        }
        let grant = Grant(id: 70, accountID: 7, name: "ews", resource: "https://outlook.office365.com/.default", flow: .delegated, state: .invalid, createdAt: Self.now, updatedAt: Self.now)
        let token = TokenStatus(grantID: 70, scopes: ["EWS.AccessAsUser.All"], obtainedAt: Self.now, expiresAt: Self.now.addingTimeInterval(3600), refreshInAt: nil, nextRefreshAt: Self.now.addingTimeInterval(3000), lastRefreshAt: Self.now, lastRefreshOutcome: "invalid_grant", consecutiveFailures: 1, generation: 3)
        let incident = Incident(id: 5, grantID: 70, accountID: 7, kind: .tokenInvalid, error: "invalid_grant", aadstsCode: 700082, traceID: "trace-1", correlationID: "corr-1", firstSeenAt: Self.now, lastSeenAt: Self.now, occurrences: 1, resolvedAt: nil)
        return AccountDetail(
            account: Self.account, tenantDomain: "contoso.example", scope: .all,
            grants: [GrantInfo(grant: grant, token: token, incident: incident)], lastSync: nil,
            nextSyncAt: Self.now.addingTimeInterval(86_400), details: ["note": "test"]
        )
    }

    func provision(_ request: ProvisionRequest, context: ControlContext, updates: ControlUpdates<ProvisionStep>) async throws -> ProvisionStep {
        if request.tenant == "exists.example" {
            throw TenantSyncError(.accountExists, "already provisioned", context: ["account.id": "7", "tenant.id": Self.tenantID, "account.service": request.service.rawValue])
        }
        let consent = ProvisionStep(
            accountID: 9, tenantID: Self.tenantID, service: request.service, step: .consent, needsInput: false,
            message: "Open the URL and enter the code.",
            consent: Consent(grant: "graph", resource: "https://graph.microsoft.com/.default", flow: request.consentFlow ?? .authCode, verificationURI: "https://microsoft.com/devicelogin", userCode: "ABCD-EFGH", expiresAt: Self.now)
        )
        guard updates.isStreaming else { return consent }
        try await updates.send(consent)
        if request.service == .onedrive {
            return ProvisionStep(
                accountID: 9, tenantID: Self.tenantID, service: .onedrive, step: .confirmAppPrincipal, needsInput: true,
                message: "Grant the app principal, then confirm.",
                appPrincipal: AppPrincipal(appID: "00000000-0000-0000-0000-00000000abcd", permissionXML: "<AppPermissionRequests AllowAppOnlyPolicy=\"true\"><AppPermissionRequest Scope=\"http://sharepoint/content/tenant\" Right=\"FullControl\" /></AppPermissionRequests>", verified: false)
            )
        }
        return ProvisionStep(accountID: 9, tenantID: Self.tenantID, service: request.service, step: .complete, needsInput: false, message: "\(request.service.displayName) protected.", scope: request.scope?.scope)
    }

    func continueProvisioning(_ request: ContinueProvisioningRequest, context: ControlContext, updates: ControlUpdates<ProvisionStep>) async throws -> ProvisionStep {
        guard request.confirmAppPrincipal == true else {
            throw ControlError.invalidArgument("confirm_app_principal", message: "confirm the app principal")
        }
        return ProvisionStep(accountID: request.accountID, tenantID: Self.tenantID, service: .onedrive, step: .complete, needsInput: false, message: "OneDrive protected.")
    }

    func sync(_ request: SyncRequest, context: ControlContext, updates: ControlUpdates<SyncProgress>) async throws -> SyncProgress {
        if request.tenant == "selected.example" {
            throw TenantSyncError(.syncNotAllowedForSelectedScope, "selected-scope tenants are not synced", context: ["tenant.id": "t-selected"])
        }
        var run = SyncRun(id: 11, tenantID: Self.tenantID, service: request.service, trigger: .manual, mode: request.full == true ? .full : .delta, state: .running, startedAt: Self.now, finishedAt: nil, pages: 0, counts: DirectoryChangeCounts(), error: nil)
        for page in 1...3 {
            run.pages = page
            run.counts.usersAdded = page * 10
            try await updates.send(SyncProgress(run: SyncRunInfo(run), done: false, message: "page \(page)"))
        }
        run.state = .succeeded
        run.finishedAt = Self.now.addingTimeInterval(5)
        return SyncProgress(run: SyncRunInfo(run), done: true)
    }

    func searchGroups(tenant: String, prefix: String, context: ControlContext) async throws -> [GroupMatch] {
        guard prefix.count >= SyncScope.minimumGroupPrefixLength else {
            throw TenantSyncError(.groupPrefixTooShort, "a group prefix needs at least three characters", context: ["group.prefix": prefix])
        }
        return [GroupMatch(id: "g1", displayName: "\(prefix) Sales", mail: "sales@contoso.example", members: 12)]
    }

    func addTargets(_ request: AddTargetsRequest, context: ControlContext) async throws -> TargetsAdded {
        if request.users.count > 100 {
            throw TenantSyncError(.tooManyTargets, "at most 100 targets", context: ["tenant.id": Self.tenantID, "targets.limit": "100", "targets.requested": String(request.users.count)])
        }
        let added = request.users.map { TargetInfo(SelectedTarget(tenantID: Self.tenantID, userPrincipalName: $0, userID: nil, source: .upn, addedAt: Self.now), exists: true) }
        return TargetsAdded(added: added, total: added.count + 1)
    }

    func listTargets(tenant: String, context: ControlContext) async throws -> TargetList {
        TargetList(tenantID: Self.tenantID, scope: .selected, targets: [
            TargetInfo(SelectedTarget(tenantID: Self.tenantID, userPrincipalName: "adele@contoso.example", userID: "u1", source: .upn, addedAt: Self.now), exists: true),
            TargetInfo(SelectedTarget(tenantID: Self.tenantID, userPrincipalName: "gone@contoso.example", userID: nil, source: .group, addedAt: Self.now), exists: false),
        ])
    }

    func listAlerts(_ request: ListAlertsRequest, context: ControlContext) async throws -> AlertPage {
        let alert = Alert(id: 3, kind: "token-invalid", severity: .critical, tenantID: Self.tenantID, accountID: 7, grantID: 70, incidentID: 5, subject: "Exchange Online token invalid", body: "Re-create the token.", facts: AlertFacts(), createdAt: Self.now, acknowledgedAt: nil)
        let delivery = AlertDelivery(alertID: 3, channel: "smtp", state: .pending, attempts: 2, nextAttemptAt: Self.now, lastError: "connection refused", deliveredAt: nil)
        return AlertPage(alerts: [AlertInfo(alert, deliveries: [delivery])], next: nil)
    }

    func acknowledgeAlert(id: Int64, context: ControlContext) async throws -> AlertInfo {
        guard id == 3 else { throw ControlError.invalidArgument("id", message: "no alert \(id)") }
        var alert = try await listAlerts(ListAlertsRequest(), context: context).alerts[0]
        alert.acknowledgedAt = Self.now
        return alert
    }

    func reload(context: ControlContext) async throws -> [String] {
        ["smtp.host"]
    }

    func deprovision(id: Int64, context: ControlContext) async throws -> AccountRef {
        throw InternalFailure()
    }

    /// An error the server must not leak details of.
    struct InternalFailure: Error {}
}
