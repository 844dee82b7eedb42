import Foundation
import Logging
import MicrosoftCloud
import TenantSyncCore

/// Provisions, renews and removes service accounts.
///
/// Every service is a list of ``ProvisioningStage``s; the account's
/// `provisioning_step` records where it stands, so a failed step is retried by
/// `ContinueProvisioning` or by a new `Provision` for the same tenant and service.
// Over 300 lines: the operations, the stage loop they enter and the account helpers they share stay together.
struct Provisioner: AccountProvisioning {
    let store: any TenantSyncStorage & TokenLifecycleStore
    let identity: IdentityPlatformClient
    let graph: GraphClient
    /// Read at each use: `[microsoft] client_id` and the client secret are reloadable.
    private let currentProductApp: @Sendable () -> OAuthClientCredentials
    var productApp: OAuthClientCredentials { currentProductApp() }
    let refresher: TokenRefresher
    let renewal: TokenRenewal
    let operations: TenantOperations
    let coordinator: SyncCoordinator
    /// The alert channels of the daemon, by outbox name, read at each alert (hooks and SMTP are reloadable).
    private let currentAlertChannels: @Sendable () -> [String]
    var alertChannels: [String] { currentAlertChannels() }
    /// Where SharePoint sends the administrator back after trusting the app (the AppInv.aspx redirect URL).
    let redirectURL: String
    /// How long the loopback listener waits for the authorization-code redirect.
    let consentTimeout: Duration
    /// Counts Graph calls of evaluation-mode accounts (it ignores every other account).
    let meter: (any GraphCallMeter)?
    /// Exchange Online's admin API (Inline Mode mail flow).
    let exchange: ExchangeAdminClient
    /// The Office 365 Management Activity API (Inline Mode activity data).
    let activity: ManagementActivityClient
    /// The accounts being driven, and in a cluster their consent-session leases.
    let sessions: ProvisioningSessions
    let now: @Sendable () -> Date
    let logger: Logger

    init(
        store: any TenantSyncStorage & TokenLifecycleStore, identity: IdentityPlatformClient, graph: GraphClient, productApp: @autoclosure @escaping @Sendable () -> OAuthClientCredentials,
        refresher: TokenRefresher, operations: TenantOperations, coordinator: SyncCoordinator,
        alertChannels: @autoclosure @escaping @Sendable () -> [String],
        redirectURL: String = "https://localhost/tenantsync/provision", consentTimeout: Duration = .seconds(600), meter: (any GraphCallMeter)? = nil, http: MicrosoftHTTPClients? = nil, leasing: (any WorkLeasing)? = nil,
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.store = store
        self.identity = identity
        self.graph = graph
        self.currentProductApp = productApp
        self.refresher = refresher
        self.renewal = TokenRenewal(storage: store, refresher: refresher, logger: logger, now: now)
        self.operations = operations
        self.coordinator = coordinator
        self.currentAlertChannels = alertChannels
        self.redirectURL = redirectURL
        self.consentTimeout = consentTimeout
        self.meter = meter
        // Each endpoint's own client: `no_proxy` may send one through the outbound proxy and another direct.
        let outlookHTTP = http?.client(for: identity.endpoints.outlook) ?? graph.http
        let managementHTTP = http?.client(for: identity.endpoints.management) ?? graph.http
        self.exchange = ExchangeAdminClient(outlookRoot: identity.endpoints.outlook, http: outlookHTTP, requestTimeout: max(graph.requestTimeout, .seconds(60)), logger: logger)
        self.activity = ManagementActivityClient(managementRoot: identity.endpoints.management, http: managementHTTP, requestTimeout: graph.requestTimeout)
        self.sessions = ProvisioningSessions(leasing: leasing)
        self.now = now
        self.logger = logger
    }

    /// The Microsoft Graph resource delegated and app-only grants ask for.
    var graphResource: String { "\(identity.endpoints.graph)/.default" }
    /// The Exchange Online resource (EWS and the mail flow).
    var outlookResource: String { "\(identity.endpoints.outlook)/.default" }

    // MARK: Provisioning operations

    func provision(_ request: ProvisioningRequest, updates: ProvisioningUpdates, logger: Logger) async throws -> ProvisioningStep {
        let policy = try InlineMailFlow.validatedPolicy(request.policy)
        if request.service != .exchangeOnlineInline, policy != nil || request.direction != nil {
            throw TenantSyncError(
                .invalidArgument, "--policy and --direction belong to exchange-online-inline, not \(request.service.rawValue).",
                context: ["account.service": request.service.rawValue]
            )
        }
        let tenant = try await resolveTenant(request.tenant)
        let account: ServiceAccount
        if let existing = try await store.account(tenantID: tenant.id, service: request.service) {
            guard existing.state == .provisioning else {
                throw TenantSyncError(
                    .accountExists,
                    "\(tenant.domain) already has \(request.service.displayNameWithArticle) service account (id \(existing.id), \(existing.state.rawValue)); "
                        + "renew it (tenantsyncctl renew \(existing.id)) or deprovision it first.",
                    context: ["tenant.id": tenant.id, "account.service": request.service.rawValue, "account.id": "\(existing.id)"]
                )
            }
            // An unfinished provisioning: resume it at its recorded step (with a new policy or direction if given).
            account = existing
            if existing.service == .exchangeOnlineInline, policy != nil || request.direction != nil {
                try await store.setInlineMailFlow(
                    accountID: existing.id, policy: policy ?? existing.inlinePolicy ?? InlineMailFlowDefaults.policy,
                    direction: request.direction ?? existing.inlineDirection ?? InlineMailFlowDefaults.direction
                )
            }
        } else {
            let teams = request.service == .teamsChat
            var model: LicensingModel? = nil
            if teams { model = request.licensingModel ?? (request.app == nil ? LicensingModel.evaluation : nil) }
            account = try await store.createAccount(
                tenantID: tenant.id, service: request.service, appID: teams ? request.app?.appID : productApp.clientID,
                licensingModel: model
            )
            let first = ProvisioningStage.stages(for: request.service)[0]
            try await store.setAccountState(id: account.id, state: .provisioning, provisioningStep: first.rawValue, provisioningError: nil)
            if request.service == .exchangeOnlineInline {
                try await store.setInlineMailFlow(
                    accountID: account.id, policy: policy ?? InlineMailFlowDefaults.policy, direction: request.direction ?? InlineMailFlowDefaults.direction
                )
            }
            logger.notice(
                "Provisioning started",
                metadata: ["tenant.id": "\(tenant.id)", "account.service": "\(request.service.rawValue)", "account.id": "\(account.id)"]
            )
        }
        let input = ProvisioningInput(
            flow: request.consentFlow ?? .deviceCode, scope: request.scope, app: request.app, licensingModel: request.licensingModel
        )
        return try await drive(accountID: account.id, input: input, updates: updates, logger: logger)
    }

    func continueProvisioning(_ request: ProvisioningContinuation, updates: ProvisioningUpdates, logger: Logger) async throws -> ProvisioningStep {
        let account = try await requireAccount(request.accountID)
        guard account.state == .provisioning else {
            throw TenantSyncError(
                .invalidArgument, "Account \(account.id) is \(account.state.rawValue), not provisioning; nothing to continue.",
                context: ["account.id": "\(account.id)"]
            )
        }
        let input = ProvisioningInput(
            flow: request.consentFlow ?? .deviceCode, scope: request.scope, app: request.app, licensingModel: nil,
            confirmAppPrincipal: request.confirmAppPrincipal ?? false
        )
        return try await drive(accountID: account.id, input: input, updates: updates, logger: logger)
    }

    func deprovision(id: Int64, logger: Logger) async throws -> RemovedAccount {
        let account = try await requireAccount(id)
        let tenant = try await store.tenant(idOrDomain: account.tenantID)
        let domain = tenant?.domain ?? account.tenantID
        try await store.deleteAccount(id: id)
        var body = "The \(account.service.displayName) service account \(id) of \(domain) was removed with its grants and tokens."
        switch account.service {
        case .sharepointOnline, .onedrive:
            let principal = SharePointAppPrincipal(appID: account.appID ?? productApp.clientID, tenantDomain: domain, redirectURL: redirectURL)
            body += " Still to do in Microsoft: " + principal.cleanUp
        case .exchangeOnlineInline:
            // The connectors keep routing mail through the product until an administrator removes them.
            body += " Still to do in Microsoft: if Inline Protection is no longer wanted, remove the connectors '\(InlineMailFlow.inboundConnector)'"
                + " and '\(InlineMailFlow.outboundConnector)' and the transport rule '\(InlineMailFlow(policy: account.inlinePolicy ?? InlineMailFlowDefaults.policy).transportRule)'"
                + " in the Exchange admin center (Mail flow), and the Exchange Administrator role of the app \(account.appID ?? productApp.clientID)."
        case .teamsChat:
            body += " Still to do in Microsoft: remove or disable the app \(account.appID ?? productApp.clientID) in Microsoft Entra ID if it is no longer used."
        default:
            break
        }
        _ = try await store.enqueueAlert(
            NewAlert(
                kind: "account-deprovisioned", severity: .info, tenantID: account.tenantID, accountID: nil,
                subject: "\(account.service.displayName) service account removed.", body: body,
                facts: .account(tenantID: account.tenantID, tenantDomain: domain, service: account.service, accountID: account.id)
            ),
            channels: alertChannels, at: now()
        )
        logger.notice(
            "Service account deprovisioned",
            metadata: ["tenant.id": "\(account.tenantID)", "account.service": "\(account.service.rawValue)", "account.id": "\(id)"]
        )
        return RemovedAccount(account: account, tenantDomain: domain)
    }

    // MARK: The stage loop

    private func drive(accountID: Int64, input: ProvisioningInput, updates: ProvisioningUpdates, logger: Logger) async throws -> ProvisioningStep {
        try await withSession(accountID: accountID, refusal: "Account \(accountID) is already being provisioned") {
            try await runStages(accountID: accountID, input: input, updates: updates, logger: logger)
        }
    }

    private func runStages(accountID: Int64, input: ProvisioningInput, updates: ProvisioningUpdates, logger: Logger) async throws -> ProvisioningStep {
        while true {
            let account = try await requireAccount(accountID)
            let tenant = try await requireTenant(account.tenantID)
            let stages = ProvisioningStage.stages(for: account.service)
            let stage = account.provisioningStep.flatMap(ProvisioningStage.init(rawValue:)).flatMap { stages.contains($0) ? $0 : nil } ?? stages[0]
            let outcome: StageOutcome
            do {
                outcome = try await run(stage, account: account, tenant: tenant, input: input, updates: updates)
            } catch {
                return try await fail(account: account, tenant: tenant, stage: stage, error: error, logger: logger)
            }
            switch outcome {
            case .advance:
                let next = stage.next(for: account.service)
                try await store.setAccountState(id: account.id, state: .provisioning, provisioningStep: next.rawValue, provisioningError: nil)
                logger.info(
                    "Provisioning step done",
                    metadata: ["account.id": "\(account.id)", "provisioning.step": "\(stage.rawValue)", "provisioning.next": "\(next.rawValue)"]
                )
            case .wait(let step):
                try await store.setAccountState(id: account.id, state: .provisioning, provisioningStep: stage.rawValue, provisioningError: nil)
                return step
            case .complete(let step):
                return step
            }
        }
    }

    private func run(
        _ stage: ProvisioningStage, account: ServiceAccount, tenant: Tenant, input: ProvisioningInput, updates: ProvisioningUpdates
    ) async throws -> StageOutcome {
        switch stage {
        case .consentEWS, .consentGraph, .consentMailFlow, .consentActivityData:
            return try await consent(stage, account: account, tenant: tenant, input: input, updates: updates)
        case .appPrincipal:
            return try await appPrincipal(account: account, tenant: tenant, input: input)
        case .exchangeRole:
            return try await exchangeRole(account: account, tenant: tenant)
        case .appCredentials:
            return try await appCredentials(account: account, tenant: tenant, input: input)
        case .scope:
            return try await scope(account: account, tenant: tenant, input: input)
        case .finish:
            return try await finish(account: account, tenant: tenant)
        }
    }

    /// Records the failed step and why; the account stays `provisioning` so the step can be retried.
    private func fail(account: ServiceAccount, tenant: Tenant, stage: ProvisioningStage, error: any Error, logger: Logger) async throws -> ProvisioningStep {
        if error is CancellationError { throw error }
        let reason = Self.describe(error)
        try await store.setAccountState(id: account.id, state: .provisioning, provisioningStep: stage.rawValue, provisioningError: reason)
        let retry = "tenantsyncctl provision \(account.service.rawValue) --tenant \(tenant.domain)"
        var facts = AlertFacts.account(tenantID: tenant.id, tenantDomain: tenant.domain, service: account.service, accountID: account.id)
        facts.provisioningStep = stage.rawValue
        facts.error = reason
        facts.command = retry
        _ = try await store.enqueueAlert(
            NewAlert(
                kind: "provisioning-failed", severity: .warning, tenantID: tenant.id, accountID: account.id,
                subject: "\(account.service.displayName) provisioning failed at \(stage.title).",
                body: "\(reason) Retry with '\(retry)'.",
                facts: facts
            ),
            channels: alertChannels, at: now()
        )
        logger.warning(
            "Provisioning step failed",
            metadata: [
                "tenant.id": "\(tenant.id)", "account.id": "\(account.id)", "account.service": "\(account.service.rawValue)",
                "provisioning.step": "\(stage.rawValue)", "error.code": "\((error as? TenantSyncError)?.code.rawValue ?? "\(type(of: error))")",
            ]
        )
        return ProvisioningStep(
            accountID: account.id, tenantID: tenant.id, service: account.service, step: .failed, needsInput: false,
            message: "Step '\(stage.rawValue)' (\(stage.title)) failed; the account stays in provisioning and the step can be retried.",
            error: reason
        )
    }

    /// The operator-facing text of an error: never a token or a secret.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as TenantSyncError: return error.message
        case let error as IdentityPlatformError:
            switch error.error {
            case "authorization_declined", "access_denied":
                return "The administrator declined the consent (\(error.error ?? "")). Retry the step and click Accept."
            case "expired_token":
                return "The consent code expired before the administrator signed in. Retry the step for a new code."
            case "invalid_grant" where error.errorCodes.contains(501481):
                return "Microsoft refused the authorization code: the PKCE code verifier does not match the code challenge of the sign-in "
                    + "(invalid_grant, AADSTS501481), so the sign-in URL was altered on its way. Retry the step and open the URL it prints unchanged."
            case "invalid_client":
                return "Microsoft refused the app id or its client secret or certificate (invalid_client\(error.errorCodes.first.map { ", AADSTS\($0)" } ?? "")). Check both and retry."
            default:
                return "Microsoft refused the request: \(error.description)"
            }
        case let error as GraphError: return "Microsoft Graph refused the request: \(error.description)"
        default: return "\(error)"
        }
    }

    // MARK: Shared helpers

    func requireAccount(_ id: Int64) async throws -> ServiceAccount {
        guard let account = try await store.account(id: id) else {
            throw TenantSyncError(.accountNotFound, "No service account \(id); 'tenantsyncctl accounts' lists them.", context: ["account.id": "\(id)"])
        }
        return account
    }

    func requireTenant(_ id: String) async throws -> Tenant {
        guard let tenant = try await store.tenant(idOrDomain: id) else {
            throw TenantSyncError(.tenantNotFound, "No tenant \(id) is known.", context: ["tenant": id])
        }
        return tenant
    }

    /// The tenant by id or domain: from the store, or resolved through Microsoft's discovery document.
    func resolveTenant(_ given: String) async throws -> Tenant {
        let trimmed = given.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw TenantSyncError(.invalidArgument, "Give the tenant's primary domain or tenant id.") }
        if let tenant = try await store.tenant(idOrDomain: trimmed) { return tenant }
        let id = try await identity.discoverTenantID(trimmed)
        if let tenant = try await store.tenant(idOrDomain: id) { return tenant }
        let domain = UUID(uuidString: trimmed) == nil ? trimmed.lowercased() : id
        return try await store.upsertTenant(id: id, domain: domain, displayName: nil)
    }

    /// Reads `/organization` with the token and records the tenant's primary domain and name.
    @discardableResult
    func verifyOrganization(tenant: Tenant, accessToken: Secret) async throws -> Tenant {
        let graph = try await self.graph.paced(tenantID: tenant.id, priority: .normal, directory: store)
        let organizations = try await graph.object(graph.url("/organization"), as: GraphOrganizationList.self, accessToken: accessToken)
        guard let organization = organizations.value.first else {
            throw TenantSyncError(.invalidArgument, "Microsoft Graph returned no organization for the tenant.", context: ["tenant.id": tenant.id])
        }
        guard organization.id.lowercased() == tenant.id.lowercased() else {
            throw TenantSyncError(
                .invalidArgument, "The administrator signed in to another tenant (\(organization.id)) than \(tenant.domain).",
                context: ["tenant.id": tenant.id]
            )
        }
        let domains = organization.verifiedDomains ?? []
        let primary = domains.first { $0.isDefault == true }?.name ?? domains.first?.name ?? tenant.domain
        return try await store.upsertTenant(id: tenant.id, domain: primary.lowercased(), displayName: organization.displayName)
    }

    /// Stores a new token set for the account's grant of that name, creating the grant if needed.
    @discardableResult
    func storeGrant(account: ServiceAccount, name: String, resource: String, flow: GrantFlow, tokens: TokenSet) async throws -> Grant {
        try requireSessionLease()
        let grant: Grant
        if let existing = try await store.grants(accountID: account.id).first(where: { $0.name == name }) {
            grant = existing
        } else {
            grant = try await store.addGrant(accountID: account.id, name: name, resource: resource, flow: flow)
        }
        let next = refresher.configuration.schedule.nextRefresh(for: tokens, random: refresher.random())
        try await store.storeTokenSet(grantID: grant.id, tokens: tokens, nextRefreshAt: next)
        refresher.wake()
        return grant
    }

    /// Runs `body` with a fresh access token of the account's grant of that name (`graph`, `mail-flow`), answering a
    /// claims challenge once (continuous access evaluation; see ``TokenRefresher/withAccessToken(grantID:_:)``).
    func withGrantToken<T: Sendable>(account: ServiceAccount, named name: String, _ body: (Secret) async throws -> T) async throws -> T {
        guard let grant = try await store.grants(accountID: account.id).first(where: { $0.name == name }) else {
            let what = name == "graph" ? "Microsoft Graph" : name
            throw TenantSyncError(.invalidArgument, "The account has no \(what) grant yet.", context: ["account.id": "\(account.id)"])
        }
        return try await refresher.withAccessToken(grantID: grant.id, body)
    }

    func step(_ account: ServiceAccount, _ kind: ProvisioningStep.Kind, needsInput: Bool, message: String) -> ProvisioningStep {
        ProvisioningStep(accountID: account.id, tenantID: account.tenantID, service: account.service, step: kind, needsInput: needsInput, message: message)
    }

    /// Updates one key of the account's details JSON.
    func recordDetails(_ accountID: Int64, _ values: [String: String]) async throws {
        let account = try await requireAccount(accountID)
        var details = (try? JSONSerialization.jsonObject(with: Data(account.detailsJSON.utf8))) as? [String: Any] ?? [:]
        for (key, value) in values { details[key] = value }
        let data = try JSONSerialization.data(withJSONObject: details, options: [.sortedKeys])
        try await store.setAccountDetails(id: accountID, detailsJSON: String(decoding: data, as: UTF8.self))
    }
}
