import Foundation
import MicrosoftCloud
import TenantSyncCore

/// The authorization-code flow with PKCE, redirected to a loopback listener of the daemon.
extension Provisioner {
    /// Opens a listener on 127.0.0.1 for this one consent, shows the authorize URL, waits for the redirect, redeems the code.
    ///
    /// The listener exists only while the consent is pending and closes on success, refusal or timeout.
    func authCodeConsent(
        account: ServiceAccount, tenant: Tenant, stage: ProvisioningStage, grantName: String, resource: String,
        updates: ProvisioningUpdates
    ) async throws -> TokenSet {
        guard updates.isStreaming else {
            // Without a stream the URL could not be shown while the listener waits.
            throw TenantSyncError(
                .invalidArgument,
                "The authorization-code flow needs a client that waits for the redirect (tenantsyncctl does); otherwise use the device-code flow.",
                context: ["consent.flow": ConsentMethod.authCode.rawValue]
            )
        }
        let scopes = MicrosoftTokenGranter.delegatedScopes(resource)
        let pkce = PKCE()
        let state = PKCE().challenge
        let (redirect, redirectURI) = try await LoopbackRedirectListener.withListener(expectedState: state, logger: logger) { listener in
            let url = identity.authorizationURL(
                tenant: tenant.id, clientID: productApp.clientID, redirectURI: listener.redirectURI, scopes: scopes, state: state, pkce: pkce
            )
            var step = self.step(
                account, .consent, needsInput: false,
                message: "Open the URL below in a browser, sign in as a Global Administrator and accept \(stage.title) for \(account.service.displayName); "
                    + "Microsoft sends the browser back to this daemon's listener at \(listener.redirectURI)."
            )
            step.consent = ConsentPrompt(
                grant: grantName, resource: resource, flow: .authCode, authorizationURL: url,
                expiresAt: now().addingTimeInterval(Double(consentTimeout.components.seconds)),
                message: "Waiting for the sign-in redirect on \(listener.redirectURI)."
            )
            try await updates.send(step)
            return (try await listener.next(timeout: consentTimeout), listener.redirectURI)
        }
        logger.info(
            "Authorization redirect received",
            metadata: ["account.id": "\(account.id)", "provisioning.step": "\(stage.rawValue)", "redirect.kind": "\(Self.kind(of: redirect))"]
        )
        let code = try Self.authorizationCode(from: redirect, tenant: tenant, timeout: consentTimeout)
        return try await identity.redeemAuthorizationCode(
            tenant: tenant.id, client: productApp, code: code, redirectURI: redirectURI, pkce: pkce, scopes: scopes
        )
    }

    /// The code of a successful redirect, or the operator-facing error for every other one.
    static func authorizationCode(from redirect: AuthorizationRedirect?, tenant: Tenant, timeout: Duration) throws -> Secret {
        switch redirect {
        case .code(let code):
            return code
        case nil:
            throw TenantSyncError(
                .invalidArgument,
                "No sign-in came back to the loopback listener within \(timeout.components.seconds)s; the listener is closed. Retry the step and open the new URL.",
                context: ["consent.flow": ConsentMethod.authCode.rawValue]
            )
        case .malformed:
            throw TenantSyncError(
                .invalidArgument, "The redirect carried neither an authorization code nor an error; nothing was redeemed. Retry the step."
            )
        case .adminConsent(let granted):
            let which = granted.map { $0.lowercased() == tenant.id.lowercased() ? "for \(tenant.domain)" : "for tenant \($0)" } ?? "for an unnamed tenant"
            throw TenantSyncError(
                .invalidArgument,
                "Microsoft reported admin consent \(which) (admin_consent=True) but sent no authorization code, so no token was obtained: "
                    + "an admin-consent link was used instead of this step's sign-in URL. Retry the step and open the sign-in URL it prints.",
                context: ["consent.flow": ConsentMethod.authCode.rawValue]
            )
        case .error(let error, let description, let subcode):
            // Microsoft's description starts with the AADSTS code; its Trace ID / Timestamp lines add nothing for an operator.
            let summary = description?.split(whereSeparator: \.isNewline).first.map(String.init)
            let detail = [error, summary].compactMap { $0 }.joined(separator: ": ")
            let message: String
            switch error {
            case "access_denied" where subcode == "cancel" || description?.contains("AADSTS65004") == true:
                message = "The administrator declined the consent (\(detail)). Retry the step and click Accept."
            case "access_denied":
                message = "Microsoft denied the sign-in (\(detail)). Sign in as a Global Administrator and retry the step."
            case "consent_required", "interaction_required":
                message = "Microsoft needs an administrator's consent first (\(detail)). Sign in as a Global Administrator and retry the step."
            default:
                message = "Microsoft refused the sign-in (\(detail)). Retry the step."
            }
            throw TenantSyncError(.invalidArgument, message, context: ["oauth.error": error])
        }
    }

    static func kind(of redirect: AuthorizationRedirect?) -> String {
        switch redirect {
        case nil: "timeout"
        case .code: "code"
        case .adminConsent: "admin-consent"
        case .error(let error, _, _): "error:\(error)"
        case .malformed: "malformed"
        }
    }
}
