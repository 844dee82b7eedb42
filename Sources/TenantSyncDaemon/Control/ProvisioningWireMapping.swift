import ControlPlane
import TenantSyncCore

// The control adapter's side of provisioning: `io.tenantsync.Control` parameters become the daemon's
// provisioning requests, and its steps become replies. Provisioning itself never sees a wire type.

extension ProvisioningRequest {
    init(_ wire: ProvisionRequest) {
        self.init(
            service: wire.service, tenant: wire.tenant, consentFlow: wire.consentFlow.map(ConsentMethod.init), app: wire.app.map(CustomerApp.init),
            licensingModel: wire.licensingModel, scope: wire.scope.map(ScopeSelection.init), policy: wire.policy, direction: wire.direction
        )
    }
}

extension ProvisioningContinuation {
    init(_ wire: ContinueProvisioningRequest) {
        self.init(
            accountID: wire.accountID, app: wire.app.map(CustomerApp.init), confirmAppPrincipal: wire.confirmAppPrincipal,
            scope: wire.scope.map(ScopeSelection.init), consentFlow: wire.consentFlow.map(ConsentMethod.init)
        )
    }
}

extension RenewalRequest {
    init(_ wire: RenewRequest) {
        self.init(id: wire.id, consentFlow: wire.consentFlow.map(ConsentMethod.init), app: wire.app.map(CustomerApp.init), licensingModel: wire.licensingModel)
    }
}

extension ActivityDataRequest {
    init(_ wire: GrantActivityDataRequest) {
        self.init(id: wire.id, consentFlow: wire.consentFlow.map(ConsentMethod.init))
    }
}

extension ConsentMethod {
    init(_ wire: ConsentFlow) {
        switch wire {
        case .deviceCode: self = .deviceCode
        case .authCode: self = .authCode
        }
    }

    var wire: ConsentFlow {
        switch self {
        case .deviceCode: .deviceCode
        case .authCode: .authCode
        }
    }
}

extension CustomerApp {
    init(_ wire: AppCredentials) {
        self.init(
            appID: wire.appID, clientSecret: wire.clientSecret, secretExpiresAt: wire.secretExpiresAt,
            certificatePEM: wire.certificate, privateKey: wire.privateKey
        )
    }
}

extension ScopeSelection {
    init(_ wire: ScopeChoice) {
        self.init(scope: wire.scope, users: wire.users, groupPrefixes: wire.groupPrefixes)
    }
}

extension ProvisionStep {
    init(_ step: ProvisioningStep) {
        self.init(
            accountID: step.accountID, tenantID: step.tenantID, service: step.service, step: Kind(step.step), needsInput: step.needsInput,
            message: step.message, consent: step.consent.map(Consent.init),
            appPrincipal: step.appPrincipal.map { AppPrincipal(appID: $0.appID, permissionXML: $0.permissionXML, verified: $0.verified) },
            scope: step.scope, error: step.error
        )
    }
}

extension ProvisionStep.Kind {
    init(_ kind: ProvisioningStep.Kind) {
        switch kind {
        case .consent: self = .consent
        case .appCredentials: self = .appCredentials
        case .confirmAppPrincipal: self = .confirmAppPrincipal
        case .chooseScope: self = .chooseScope
        case .complete: self = .complete
        case .failed: self = .failed
        }
    }
}

extension Consent {
    init(_ prompt: ConsentPrompt) {
        self.init(
            grant: prompt.grant, resource: prompt.resource, flow: prompt.flow.wire, verificationURI: prompt.verificationURI,
            userCode: prompt.userCode, authorizationURL: prompt.authorizationURL, expiresAt: prompt.expiresAt, message: prompt.message
        )
    }
}

extension AccountRef {
    init(_ removed: RemovedAccount) {
        let account = removed.account
        self.init(id: account.id, tenantID: account.tenantID, tenantDomain: removed.tenantDomain, service: account.service, state: account.state)
    }
}

extension ProvisioningUpdates {
    /// Steps sent on as `continues` replies of the call.
    init(_ wire: ControlUpdates<ProvisionStep>) {
        self.init(isStreaming: wire.isStreaming) { try await wire.send(ProvisionStep($0)) }
    }
}
