import Logging

/// What the daemon's control adapter asks of provisioning: the domain operations, in the daemon's own types.
///
/// The control plane's wire types stay in `Control/`, which maps them to these (the same direction as the
/// store: the daemon says what it needs, adapters provide it).
protocol AccountProvisioning: Sendable {
    func provision(_ request: ProvisioningRequest, updates: ProvisioningUpdates, logger: Logger) async throws -> ProvisioningStep
    func continueProvisioning(_ request: ProvisioningContinuation, updates: ProvisioningUpdates, logger: Logger) async throws -> ProvisioningStep
    func renew(_ request: RenewalRequest, updates: ProvisioningUpdates, logger: Logger) async throws -> ProvisioningStep
    /// Inline Mode: upgrades an inbound-only account to inbound and outbound.
    func upgradeOutbound(id: Int64, logger: Logger) async throws -> ProvisioningStep
    /// Inline Mode: the optional activity-data consent (Office 365 Management Activity API).
    func grantActivityData(_ request: ActivityDataRequest, updates: ProvisioningUpdates, logger: Logger) async throws -> ProvisioningStep
    func deprovision(id: Int64, logger: Logger) async throws -> RemovedAccount
}
