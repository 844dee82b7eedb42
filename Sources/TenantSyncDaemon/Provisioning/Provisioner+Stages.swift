import Foundation
import MicrosoftCloud
import TenantSyncCore

/// The work of each provisioning stage.
extension Provisioner {
    /// Resource of a consent stage.
    func resource(of stage: ProvisioningStage) -> String {
        switch stage {
        case .consentGraph: graphResource
        case .consentActivityData: managementResource
        default: outlookResource
        }
    }

    /// A delegated consent (device code or authorization code with PKCE): wait for the administrator, store the grant.
    func consent(
        _ stage: ProvisioningStage, account: ServiceAccount, tenant: Tenant, input: ProvisioningInput, updates: ProvisioningUpdates
    ) async throws -> StageOutcome {
        guard let name = stage.grantName else { preconditionFailure("not a consent stage") }
        let resource = resource(of: stage)
        let tokens = try await interactiveConsent(
            account: account, tenant: tenant, stage: stage, grantName: name, resource: resource, flow: input.flow, updates: updates
        )
        guard let tokens else {
            // A client that does not stream: it has the code now and continues to wait for the sign-in.
            let pending = try await store.pendingConsent(accountID: account.id, stage: stage.rawValue, now: now())
            return .wait(consentStep(account: account, stage: stage, grantName: name, resource: resource, pending: pending))
        }
        guard tokens.refreshToken != nil else {
            throw TenantSyncError(.invalidArgument, "Microsoft issued no refresh token for \(stage.title); the consent must include offline_access.")
        }
        try await storeGrant(account: account, name: name, resource: resource, flow: .delegated, tokens: tokens)
        if stage == .consentGraph {
            // The directory-read consent tells who the tenant is: record its primary domain now.
            try await verifyOrganization(tenant: tenant, accessToken: tokens.accessToken)
        }
        return .advance
    }

    /// Runs one interactive consent with the chosen flow; `nil` when a device code was shown to a client that does not stream.
    func interactiveConsent(
        account: ServiceAccount, tenant: Tenant, stage: ProvisioningStage, grantName: String, resource: String, flow: ConsentMethod,
        updates: ProvisioningUpdates
    ) async throws -> TokenSet? {
        switch flow {
        case .deviceCode:
            return try await deviceCodeConsent(account: account, tenant: tenant, stage: stage, grantName: grantName, resource: resource, updates: updates)
        case .authCode:
            return try await authCodeConsent(account: account, tenant: tenant, stage: stage, grantName: grantName, resource: resource, updates: updates)
        }
    }

    /// Runs (or resumes) one device-code consent; `nil` when the caller does not stream and must come back.
    func deviceCodeConsent(
        account: ServiceAccount, tenant: Tenant, stage: ProvisioningStage, grantName: String, resource: String,
        updates: ProvisioningUpdates
    ) async throws -> TokenSet? {
        let scopes = MicrosoftTokenGranter.delegatedScopes(resource)
        if let pending = try await store.pendingConsent(accountID: account.id, stage: stage.rawValue, now: now()) {
            // The code shown earlier (by this node or another): the administrator may be signing in with it now.
            return try await poll(account: account, tenant: tenant, pending: pending)
        }
        let authorization = try await identity.startDeviceCode(tenant: tenant.id, clientID: productApp.clientID, scopes: scopes)
        let pending = PendingConsent(
            accountID: account.id, stage: stage.rawValue, deviceCode: authorization.deviceCode, userCode: authorization.userCode,
            verificationURI: authorization.verificationURI, message: authorization.message, interval: authorization.interval,
            scopes: authorization.scopes, expiresAt: now().addingTimeInterval(Double(authorization.expiresIn.components.seconds))
        )
        try requireSessionLease()
        try await store.savePendingConsent(pending, at: now())
        guard updates.isStreaming else { return nil }
        try await updates.send(consentStep(account: account, stage: stage, grantName: grantName, resource: resource, pending: pending))
        return try await poll(account: account, tenant: tenant, pending: pending)
    }

    private func poll(account: ServiceAccount, tenant: Tenant, pending: PendingConsent) async throws -> TokenSet {
        let authorization = DeviceCodeAuthorization(
            deviceCode: pending.deviceCode, userCode: pending.userCode, verificationURI: pending.verificationURI, message: pending.message,
            expiresIn: .seconds(max(0, pending.expiresAt.timeIntervalSince(now()))), interval: pending.interval, scopes: pending.scopes
        )
        do {
            let tokens = try await identity.pollDeviceCode(tenant: tenant.id, client: productApp, authorization: authorization)
            try await store.removePendingConsent(accountID: account.id)
            return tokens
        } catch let error as IdentityPlatformError {
            // A declined or expired code is spent: the retry starts a new one.
            try await store.removePendingConsent(accountID: account.id)
            throw error
        }
    }

    func consentStep(
        account: ServiceAccount, stage: ProvisioningStage, grantName: String, resource: String, pending: PendingConsent?
    ) -> ProvisioningStep {
        var step = self.step(
            account, .consent, needsInput: false,
            message: "Sign in as a Global Administrator and accept \(stage.title) for \(account.service.displayName)."
        )
        step.consent = ConsentPrompt(
            grant: grantName, resource: resource, flow: .deviceCode, verificationURI: pending?.verificationURI,
            userCode: pending?.userCode, expiresAt: pending?.expiresAt, message: pending?.message
        )
        return step
    }

    /// SharePoint Online / OneDrive: show the app principal to grant, and wait for the operator's confirmation.
    func appPrincipal(account: ServiceAccount, tenant: Tenant, input: ProvisioningInput) async throws -> StageOutcome {
        let principal = SharePointAppPrincipal(appID: account.appID ?? productApp.clientID, tenantDomain: tenant.domain, redirectURL: redirectURL)
        guard input.confirmAppPrincipal else {
            var step = self.step(account, .confirmAppPrincipal, needsInput: true, message: principal.instructions)
            step.appPrincipal = AppPrincipalPrompt(appID: principal.appID, permissionXML: SharePointAppPrincipal.permissionXML, verified: false)
            return .wait(step)
        }
        try await recordDetails(account.id, [
            "appPrincipal.appId": principal.appID, "appPrincipal.confirmedAt": ISO8601DateFormatter().string(from: now()),
            "appPrincipal.verifyAt": principal.verifyURL,
        ])
        return .advance
    }

    /// Inline Mode: the product app's service principal must hold Exchange Administrator in effect: a plain active
    /// assignment, or an active one made through Privileged Identity Management (the two ways an administrator assigns it).
    ///
    /// An assignment that is only *eligible* is refused: it takes an activation to come into effect, and an app cannot
    /// activate a role (activation is an interactive sign-in), so Exchange would refuse every cmdlet.
    func exchangeRole(account: ServiceAccount, tenant: Tenant) async throws -> StageOutcome {
        try await withGrantToken(account: account, named: "graph") { token in
            try await exchangeRole(account: account, tenant: tenant, token: token)
        }
    }

    private func exchangeRole(account: ServiceAccount, tenant: Tenant, token: Secret) async throws -> StageOutcome {
        let graph = try await self.graph.paced(tenantID: tenant.id, priority: .normal, directory: store)
        let appID = account.appID ?? productApp.clientID
        let principals = try await graph.page(
            graph.url("/servicePrincipals?$filter=" + Self.encode("appId eq '\(appID)'")), as: GraphServicePrincipal.self, accessToken: token
        )
        guard let principal = principals.value.first else {
            throw TenantSyncError(
                .invalidArgument, "The app \(appID) has no service principal in \(tenant.domain); give the mail-flow consent first.",
                context: ["app.id": appID]
            )
        }
        let filter = Self.encode("principalId eq '\(principal.id)' and roleDefinitionId eq '\(Self.exchangeAdministratorRoleID)'")
        let inEffect = try await graph.page(
            graph.url("/roleManagement/directory/roleAssignments?$filter=\(filter)"), as: GraphRoleAssignment.self, accessToken: token
        ).value
        guard !inEffect.isEmpty else {
            let eligible = try await graph.page(
                graph.url("/roleManagement/directory/roleEligibilitySchedules?$filter=\(filter)"), as: GraphRoleAssignment.self, accessToken: token
            ).value
            let howTo = "In Microsoft Entra ID > Roles and administrators > Exchange administrator > Add assignments, add the app \(appID)"
            throw TenantSyncError(
                .invalidArgument,
                eligible.isEmpty
                    ? "The Exchange Administrator role is not assigned to the app \(appID) in \(tenant.domain). \(howTo) "
                        + "(with Privileged Identity Management: assignment type Active), then retry this step."
                    : "The app \(appID) is only eligible for the Exchange Administrator role in \(tenant.domain) (Privileged Identity "
                        + "Management); an app cannot activate an eligible role, so Exchange would refuse it. \(howTo) with assignment "
                        + "type Active on the Setting tab, so that it appears under Active assignments, then retry this step.",
                context: ["app.id": appID, "servicePrincipal.id": principal.id]
            )
        }
        // Made through PIM? Its schedule says so, and whether it ends. Tenants without PIM (no Entra ID P2) answer this
        // query with an error: that only means the assignment is a plain one.
        let schedule = try? await graph.page(
            graph.url("/roleManagement/directory/roleAssignmentScheduleInstances?$filter=\(filter)"), as: GraphRoleAssignment.self,
            accessToken: token
        ).value.first
        var details = ["exchangeRole.assignment": schedule == nil ? "active" : "active-pim", "exchangeRole.servicePrincipalId": principal.id]
        if let end = schedule?.endDateTime {
            // A time-bound assignment: the mail flow stops being manageable when it ends.
            details["exchangeRole.endsAt"] = end
            logger.warning(
                "Exchange Administrator assignment is time-bound",
                metadata: ["tenant.id": "\(tenant.id)", "account.id": "\(account.id)", "role.ends_at": "\(end)"]
            )
        }
        try await recordDetails(account.id, details)
        return .advance
    }

    /// The Exchange Administrator role template id.
    static let exchangeAdministratorRoleID = "29232cdf-9323-42fd-ade2-1d097af3e4de"

    static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value
    }

    /// Teams Chat: the customer's own app (client credentials), checked with Graph calls; without one, evaluation mode.
    func appCredentials(account: ServiceAccount, tenant: Tenant, input: ProvisioningInput) async throws -> StageOutcome {
        let requested = input.licensingModel ?? account.licensingModel
        let credentials: OAuthClientCredentials
        let model: LicensingModel
        var ownCredential: CustomerAppCredential?
        if let app = input.app {
            guard let requested else {
                throw TenantSyncError(.invalidArgument, "Choose the Teams Chat licensing model for your own app: --licensing-model A, B or evaluation.")
            }
            // A certificate whose key does not match is refused here, before any request or write.
            let credential = try app.credential()
            ownCredential = credential
            credentials = credential.client
            model = requested
        } else if requested == nil || requested == .evaluation {
            // No own app: the product's app in evaluation mode, with its limited monthly budget.
            credentials = productApp
            model = .evaluation
        } else {
            var step = self.step(
                account, .appCredentials, needsInput: true,
                message: "Licensing model \(requested!.rawValue) needs your own Entra app with Chat.Read.All, Chat.UpdatePolicyViolation.All, "
                    + "Files.ReadWrite.All, Group.Read.All and User.Read.All (application, admin-consented): give --app-id with --secret-file, or with --certificate-file and --key-file."
            )
            step.error = nil
            return .wait(step)
        }
        let tokens = try await identity.clientCredentials(tenant: tenant.id, client: credentials, scope: graphResource)
        try await verifyTeamsPermissions(appID: credentials.clientID, tenant: tenant, accessToken: tokens.accessToken, model: model)
        if let app = input.app, let ownCredential {
            try await storeAppCredential(accountID: account.id, app: app, credential: ownCredential)
        }
        try await store.setLicensingModel(accountID: account.id, model: model)
        try await recordDetails(account.id, ["teams.licensingModel": model.rawValue, "teams.ownApp": input.app == nil ? "false" : "true"])
        try await storeGrant(account: account, name: "graph", resource: graphResource, flow: .clientCredentials, tokens: tokens)
        if model == .evaluation {
            // The probes spent evaluation calls too; the budget counts them now that the metered grant exists.
            for _ in 0..<Self.teamsPermissionProbeCount { await meter?.graphCallMade(tenantID: tenant.id) }
        }
        return .advance
    }

    /// Stores the own app's secret, or its certificate with the key sealed and the certificate's notAfter as the expiry.
    func storeAppCredential(accountID: Int64, app: CustomerApp, credential: CustomerAppCredential) async throws {
        if let certificate = credential.certificate, let privateKey = app.privateKey {
            try await store.setClientCertificate(
                accountID: accountID, appID: app.appID,
                certificate: AccountCertificate(certificatePEM: certificate.certificatePEM, privateKey: privateKey),
                thumbprint: certificate.thumbprintSHA1, expiresAt: certificate.notValidAfter
            )
        } else if let secret = app.clientSecret {
            try await store.setClientSecret(accountID: accountID, appID: app.appID, secret: secret, expiresAt: app.secretExpiresAt)
        }
    }

    /// The sync scope: all, or selected users by UPN and group-name prefix, under the shared-scope rule.
    func scope(account: ServiceAccount, tenant: Tenant, input: ProvisioningInput) async throws -> StageOutcome {
        guard let choice = input.scope else {
            var step = self.step(
                account, .chooseScope, needsInput: true,
                message: "Choose the sync scope: all users and groups, or selected users (by exact user principal name or group-name prefix, at most \(SyncScope.maximumSelectedTargets))."
            )
            step.scope = tenant.syncScope
            return .wait(step)
        }
        let others = try await store.accounts()
            .filter { $0.tenantID == tenant.id && $0.id != account.id && $0.state != .provisioning }
            .map(\.service)
        try ScopeRules.checkScope(choice.scope, for: account.service, tenantScope: tenant.syncScope, existingServices: others)
        var selectedCount = 0
        if choice.scope == .selected {
            let users = choice.users ?? []
            let prefixes = choice.groupPrefixes ?? []
            guard !users.isEmpty || !prefixes.isEmpty else {
                throw TenantSyncError(.invalidArgument, "A selected scope needs at least one user principal name or group prefix.")
            }
            for prefix in prefixes { try ScopeRules.checkGroupPrefix(prefix) }
            var groupIDs: [String] = []
            for prefix in prefixes {
                let groups = try await operations.searchGroups(tenant: tenant.id, prefix: prefix)
                guard !groups.isEmpty else {
                    throw TenantSyncError(.invalidArgument, "No group name in \(tenant.domain) starts with \"\(prefix)\".", context: ["prefix": prefix])
                }
                groupIDs += groups.map(\.id)
            }
            try await operations.addSelectedTargets(tenant: tenant.id, userPrincipalNames: users, groupIDs: groupIDs)
            selectedCount = try await store.selectedTargets(tenantID: tenant.id).count
        }
        if tenant.syncScope != choice.scope {
            try await store.setSyncScope(tenantID: tenant.id, scope: choice.scope)
        }
        var details = ["scope": choice.scope.rawValue]
        if choice.scope == .selected { details["scope.selectedTargets"] = "\(selectedCount)" }
        try await recordDetails(account.id, details)
        return .advance
    }

    /// Verification call with the new token, first directory sync, account active, success notice.
    func finish(account: ServiceAccount, tenant: Tenant) async throws -> StageOutcome {
        if account.service == .exchangeOnlineInline {
            // The policy enabled automatically once the access grant is complete, with the chosen direction.
            try await configureMailFlow(
                account: account, tenant: tenant, policy: account.inlinePolicy ?? InlineMailFlowDefaults.policy,
                direction: account.inlineDirection ?? InlineMailFlowDefaults.direction
            )
        }
        let verified = try await withGrantToken(account: account, named: "graph") { try await verifyOrganization(tenant: tenant, accessToken: $0) }
        await meter?.graphCallMade(tenantID: tenant.id)
        _ = await coordinator.submit(.init(tenantID: tenant.id, service: account.service, trigger: .provision, forceFull: true))
        let run = try await coordinator.completionOrLatest(tenantID: tenant.id, store: store)
        guard run.state == .succeeded else {
            throw TenantSyncError(
                .invalidArgument, "The first directory sync of \(verified.domain) did not succeed (\(run.state.rawValue)): \(run.error ?? "no reason given").",
                context: ["sync.run": "\(run.id)"]
            )
        }
        try await store.setAccountState(id: account.id, state: .active, provisioningStep: nil, provisioningError: nil)
        let current = try await requireAccount(account.id)
        let body = "The \(account.service.displayName) service account \(account.id) of \(verified.domain) is active; "
            + "the first directory sync (run \(run.id)) added \(run.counts.usersAdded) users and \(run.counts.groupsAdded) groups."
        _ = try await store.enqueueAlert(
            NewAlert(
                kind: "account-protected", severity: .info, tenantID: tenant.id, accountID: account.id,
                subject: account.service.protectedNotice, body: body,
                facts: AlertFacts(
                    tenantID: tenant.id, tenantDomain: verified.domain, service: account.service, accountID: account.id,
                    command: "tenantsyncctl account \(account.id)", syncRun: run.id, usersAdded: run.counts.usersAdded,
                    groupsAdded: run.counts.groupsAdded
                )
            ),
            channels: alertChannels, at: now()
        )
        logger.notice(
            "Service account protected",
            metadata: ["tenant.id": "\(tenant.id)", "account.id": "\(account.id)", "account.service": "\(account.service.rawValue)", "sync.run": "\(run.id)"]
        )
        var step = self.step(current, .complete, needsInput: false, message: account.service.protectedNotice)
        step.scope = account.service.sharesDirectoryScope ? verified.syncScope : nil
        return .complete(step)
    }
}
