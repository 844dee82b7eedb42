import Foundation
import Logging
import MicrosoftCloud
import TenantSyncCore

/// Exchange Online (Inline Mode): the optional permission to read the organization's activity data.
extension Provisioner {
    /// The Office 365 Management APIs resource the activity-data grant asks for.
    var managementResource: String { "\(identity.endpoints.management)/.default" }

    func grantActivityData(_ request: ActivityDataRequest, updates: ProvisioningUpdates, logger: Logger) async throws -> ProvisioningStep {
        let account = try await requireActiveInlineAccount(request.id, for: "the activity-data permission")
        let tenant = try await requireTenant(account.tenantID)
        let stage = ProvisioningStage.consentActivityData
        let name = stage.grantName ?? "activity-data"
        let failed: ProvisioningStep? = try await withSession(accountID: account.id, refusal: "Account \(account.id) is being changed") {
            do {
                let tokens = try await interactiveConsent(
                    account: account, tenant: tenant, stage: stage, grantName: name, resource: managementResource,
                    flow: request.consentFlow ?? .deviceCode, updates: updates
                )
                guard let tokens else {
                    throw TenantSyncError(.invalidArgument, "The activity-data consent needs a streaming client to show the consent code; use tenantsyncctl.")
                }
                guard tokens.refreshToken != nil else {
                    throw TenantSyncError(.invalidArgument, "Microsoft issued no refresh token for \(stage.title); the consent must include offline_access.")
                }
                // Verified before it is stored: a token that cannot read activity data changes nothing.
                let subscriptions: [ManagementActivityClient.Subscription]
                do {
                    subscriptions = try await activity.subscriptions(tenantID: tenant.id, accessToken: tokens.accessToken)
                } catch let error as GraphError where error.kind == .forbidden || error.kind == .unauthorized {
                    throw TenantSyncError(
                        .invalidArgument,
                        "The Office 365 Management Activity API refused the new token (\(error.code ?? "HTTP \(error.status ?? 0)"): \(error.message)); "
                            + "the consent must include ActivityFeed.Read. Nothing was stored.",
                        context: ["account.id": "\(account.id)"]
                    )
                }
                try await storeGrant(account: account, name: name, resource: managementResource, flow: .delegated, tokens: tokens)
                try await recordDetails(account.id, [
                    "activityData.grantedAt": ISO8601DateFormatter().string(from: now()),
                    "activityData.subscriptions": subscriptions.filter { $0.status == "enabled" }.map(\.contentType).joined(separator: ","),
                ])
                return nil
            } catch {
                if error is CancellationError { throw error }
                var failed = self.step(account, .failed, needsInput: false, message: "The activity-data permission was not granted; account \(account.id) is unchanged.")
                failed.error = Self.describe(error)
                return failed
            }
        }
        if let failed { return failed }
        _ = try await store.enqueueAlert(
            NewAlert(
                kind: "activity-data-granted", severity: .info, tenantID: tenant.id, accountID: account.id,
                subject: "Exchange Online (Inline Mode) of \(tenant.domain) may read activity data.",
                body: "An administrator granted the Exchange Online (Inline Mode) service account \(account.id) of \(tenant.domain) the permission "
                    + "to read the organization's activity data (Office 365 Management Activity API); the grant '\(name)' was verified.",
                facts: AlertFacts(
                    tenantID: tenant.id, tenantDomain: tenant.domain, service: account.service, accountID: account.id, grantName: name,
                    command: "tenantsyncctl account \(account.id)"
                )
            ),
            channels: alertChannels, at: now()
        )
        logger.notice(
            "Activity-data permission granted",
            metadata: ["tenant.id": "\(tenant.id)", "account.id": "\(account.id)", "grant.name": "\(name)"]
        )
        let current = try await requireAccount(account.id)
        return step(current, .complete, needsInput: false, message: "Granted the permission to read activity data to account \(account.id).")
    }
}
