import TenantSyncCore

/// What the operator supplied in one `Provision`, `ContinueProvisioning` or `Renew` call.
struct ProvisioningInput: Sendable {
    var flow: ConsentMethod = .deviceCode
    var scope: ScopeSelection?
    var app: CustomerApp?
    var licensingModel: LicensingModel?
    var confirmAppPrincipal = false
}

/// How one stage ended.
enum StageOutcome: Sendable {
    /// Done; go on with the next stage.
    case advance
    /// Return this step to the operator and wait for `ContinueProvisioning`.
    case wait(ProvisioningStep)
    /// The account is active.
    case complete(ProvisioningStep)
}
