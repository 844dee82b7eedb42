import Foundation
import Logging
import MicrosoftCloud
import TenantSyncCore

/// `tenantsyncctl renew`: new consents for delegated grants, a new secret (or app) for Teams Chat.
extension Provisioner {
    func renew(_ request: RenewalRequest, updates: ProvisioningUpdates, logger: Logger) async throws -> ProvisioningStep {
        let account = try await requireAccount(request.id)
        guard account.state != .provisioning else {
            throw TenantSyncError(
                .invalidArgument, "Account \(account.id) is still provisioning; finish it with 'tenantsyncctl provision' instead of renewing.",
                context: ["account.id": "\(account.id)"]
            )
        }
        let tenant = try await requireTenant(account.tenantID)
        return try await withSession(accountID: account.id, refusal: "Account \(account.id) is already being renewed or provisioned") {
            do {
                return try await renewGrants(account: account, tenant: tenant, request: request, updates: updates, logger: logger)
            } catch {
                if error is CancellationError { throw error }
                var step = self.step(account, .failed, needsInput: false, message: "Renewal of account \(account.id) failed; its grants are unchanged.")
                step.error = Self.describe(error)
                return step
            }
        }
    }

    private func renewGrants(
        account: ServiceAccount, tenant: Tenant, request: RenewalRequest, updates: ProvisioningUpdates, logger: Logger
    ) async throws -> ProvisioningStep {
        let grants = try await store.grants(accountID: account.id)
        var renewed: [String] = []
        if account.service == .teamsChat {
            guard let grant = grants.first(where: { $0.flow == .clientCredentials }) else {
                throw TenantSyncError(.invalidArgument, "The Teams Chat account has no app grant; deprovision and provision it again.")
            }
            guard let app = request.app else {
                throw TenantSyncError(
                    .invalidArgument,
                    "Renewing Teams Chat needs the app's new secret or certificate (and app id): --app-id with --secret-file, or with --certificate-file and --key-file."
                )
            }
            // A certificate whose key does not match is refused before any request; then the permissions are
            // checked, so that a wrong app replaces nothing.
            let credential = try app.credential()
            let probe = try await identity.clientCredentials(tenant: tenant.id, client: credential.client, scope: grant.resource)
            let model = request.licensingModel ?? (account.licensingModel == .evaluation ? .a : account.licensingModel ?? .a)
            try await verifyTeamsPermissions(appID: app.appID, tenant: tenant, accessToken: probe.accessToken, model: model)
            let update: TokenRenewalRecord.ClientSecretUpdate
            if let certificate = credential.certificate, let privateKey = app.privateKey {
                update = .init(
                    appID: app.appID, certificate: AccountCertificate(certificatePEM: certificate.certificatePEM, privateKey: privateKey),
                    thumbprint: certificate.thumbprintSHA1, expiresAt: certificate.notValidAfter
                )
            } else {
                update = .init(appID: app.appID, secret: app.clientSecret ?? Secret(""), expiresAt: app.secretExpiresAt)
            }
            try requireSessionLease()
            _ = try await renewal.renewClientCredentials(grantID: grant.id, credential: update, client: credential.client, using: identity)
            try await store.setLicensingModel(accountID: account.id, model: model)
            try await recordDetails(account.id, ["teams.licensingModel": model.rawValue, "teams.ownApp": "true"])
            renewed.append(grant.name)
        } else {
            // Delegated grants, in the order the service consents to them.
            var order = ProvisioningStage.stages(for: account.service).compactMap(\.grantName)
            // The optional activity-data grant of Inline Mode, if it was given.
            if account.service == .exchangeOnlineInline { order.append("activity-data") }
            for name in order {
                guard let grant = grants.first(where: { $0.name == name && $0.flow == .delegated }),
                      let stage = ProvisioningStage.allCases.first(where: { $0.grantName == name })
                else { continue }
                let tokens = try await interactiveConsent(
                    account: account, tenant: tenant, stage: stage, grantName: name, resource: grant.resource,
                    flow: request.consentFlow ?? .deviceCode, updates: updates
                )
                guard let tokens else {
                    throw TenantSyncError(.invalidArgument, "Renewal needs a streaming client to show the consent code; use tenantsyncctl renew.")
                }
                try requireSessionLease()
                _ = try await renewal.renew(grantID: grant.id, tokens: tokens)
                renewed.append(name)
            }
        }
        logger.notice("Account renewed", metadata: ["account.id": "\(account.id)", "grants.renewed": "\(renewed.joined(separator: ","))"])
        let current = try await requireAccount(account.id)
        return step(current, .complete, needsInput: false, message: "Renewed \(renewed.joined(separator: ", ")) of account \(account.id); it is \(current.state.rawValue).")
    }
}
