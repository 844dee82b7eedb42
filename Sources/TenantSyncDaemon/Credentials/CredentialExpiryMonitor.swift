import Foundation
import Logging
import ServiceLifecycle
import TenantSyncCore

/// Warns before app credentials expire: `credential-expiring` 30, 7 and 1 days ahead, `credential-expired` at expiry.
///
/// Watches the expiries the store holds: the product app's (its certificate's, or
/// `[microsoft] client_secret_expires`), recorded at start and at each reload, and each Teams
/// Chat app's, recorded at provisioning. Each stage alerts once, through every channel, and is
/// remembered in the store so a restart does not repeat it; a rotated credential starts over.
/// Checks once an hour (on an injected clock and wall time, so tests move both).
public struct CredentialExpiryMonitor<C: Clock<Duration>>: Service {
    let store: any CredentialExpiryStore & AccountStore
    private let currentAlertChannels: @Sendable () -> [String]
    let interval: Duration
    let clock: C
    let now: @Sendable () -> Date
    let logger: Logger

    public init(
        store: any CredentialExpiryStore & AccountStore, alertChannels: @autoclosure @escaping @Sendable () -> [String],
        interval: Duration = .seconds(3_600), clock: C, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.store = store
        self.currentAlertChannels = alertChannels
        self.interval = interval
        self.clock = clock
        self.now = now
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled {
            await check()
            do {
                try await cancelWhenGracefulShutdown { try await clock.sleep(for: interval) }
            } catch {
                // Shutdown (or cancellation) ends the wait: a normal end, not a service failure.
                return
            }
        }
    }

    /// One pass: raises every alert due now and returns them.
    @discardableResult
    public func check() async -> [Alert] {
        var raised: [Alert] = []
        do {
            let date = now()
            for expiry in try await store.credentialExpiries() {
                guard let days = CredentialExpiryRules.stageToAlert(expiry, now: date) else { continue }
                let alert = try await alert(for: expiry, days: days, now: date)
                if let stored = try await store.raiseCredentialExpiryAlert(
                    credential: expiry.credential, expiresAt: expiry.expiresAt, days: days, alert: alert, channels: currentAlertChannels(), at: date
                ) {
                    raised.append(stored)
                    logger.warning(
                        days == 0 ? "App credential expired" : "App credential expires soon",
                        metadata: [
                            "credential.name": "\(expiry.credential)", "credential.kind": "\(expiry.kind.rawValue)",
                            "credential.expires": "\(stored.facts.credentialExpires ?? "")", "credential.days_left": "\(days)",
                        ]
                    )
                }
            }
        } catch {
            // The next pass tries again; nothing was marked alerted without its alert (one transaction).
            logger.error("Credential expiries not checked", metadata: ["error": "\(error)"])
        }
        return raised
    }

    private func alert(for expiry: CredentialExpiry, days: Int, now: Date) async throws -> NewAlert {
        let expires = ISO8601DateFormatter().string(from: expiry.expiresAt)
        let what = expiry.kind == .certificate ? "certificate" : "client secret"
        var facts = AlertFacts()
        let whose: String
        let consequence: String
        let remedy: String
        var tenantID: String?
        if let accountID = expiry.accountID, let account = try await store.account(id: accountID) {
            let domain = try await store.tenant(idOrDomain: account.tenantID)?.domain ?? account.tenantID
            facts = AlertFacts.account(tenantID: account.tenantID, tenantDomain: domain, service: account.service, accountID: account.id)
            facts.credentialAppID = account.appID
            tenantID = account.tenantID
            whose = "the \(account.service.displayName) app of \(domain)"
            consequence = "the \(account.service.displayName) service account \(account.id) of \(domain) stops being protected"
            // A Teams Chat app authenticates with a secret (certificates for Teams apps are not supported yet).
            let command = "tenantsyncctl renew \(account.id) --app-id \(account.appID ?? "ID") --secret-file FILE --secret-expires YYYY-MM-DD"
            facts.command = command
            remedy = "Add a new \(what) to the app registration in Microsoft Entra ID, then run: \(command)"
        } else {
            whose = "the tenantsync app"
            consequence = "every service account that uses the product's app stops being protected"
            remedy = expiry.kind == .certificate
                ? "Create a new certificate, upload it to the app registration next to the old one, point [microsoft] client_certificate_file and client_key_file at it and run `tenantsyncctl reload` (README, \"Certificates\")."
                : "Create a new client secret in the app registration, write it to [microsoft] client_secret_file, set client_secret_expires to its expiry and run `tenantsyncctl reload`."
            facts.command = "tenantsyncctl reload"
        }
        facts.credentialKind = expiry.kind.rawValue
        facts.credentialExpires = expires
        facts.credentialDaysLeft = CredentialExpiryRules.daysLeft(expiresAt: expiry.expiresAt, now: now)
        facts.credentialThumbprint = expiry.thumbprint
        let code = expiry.kind == .certificate ? "AADSTS700027" : "AADSTS7000222"
        if days == 0 {
            return NewAlert(
                kind: "credential-expired", severity: .critical, tenantID: tenantID, accountID: expiry.accountID,
                subject: "The \(what) of \(whose) has expired.",
                body: "The \(what) of \(whose) expired at \(expires). Microsoft refuses the tokens it would get (\(code)), so \(consequence). \(remedy)",
                facts: facts
            )
        }
        let left = facts.credentialDaysLeft ?? days
        return NewAlert(
            kind: "credential-expiring", severity: days == 1 ? .critical : .warning, tenantID: tenantID, accountID: expiry.accountID,
            subject: "The \(what) of \(whose) expires in \(left) day\(left == 1 ? "" : "s").",
            body: "The \(what) of \(whose) expires at \(expires). After that Microsoft refuses the tokens it would get (\(code)) and \(consequence). \(remedy)",
            facts: facts
        )
    }
}
