import ControlPlane
import Foundation
import M365Emulator
import Testing
import TestSupport

/// an alert's facts reach the administrator on every channel. The real daemon against the
/// emulator, a real aiosmtpd SMTP server, a real journald and a real hook process; nothing in between
/// is replaced.
@Suite("Alert facts end to end", .serialized)
struct AlertFactsEndToEndTests {
    @Test("a grant revoked at Microsoft (AADSTS70008): mail, journal and hook name the service, tenant, grant, code, trace id and renew command")
    func tokenInvalidReachesEveryChannelWithItsFacts() async throws {
        let smtp = try PlainSMTPServer()
        defer { smtp.stop() }
        try await smtp.start()
        // Refresh 30 s before expiry of 40-second tokens: the daemon refreshes about 10 s after each consent.
        let config = AlertChannelProbe.smtpConfig(smtp) + "\n[tokens]\nrefresh_margin = \"30s\"\n"
        try await Journald.with {
            try await ProvisioningHarness.with(extraConfig: config) { h in
                _ = try h.emulator.updateSettings(tenant: h.tenant.id, TenantSettingsPatch(accessTokenLifetimeSeconds: 40))
                let provisioned = try await h.provision("exchange-online", ["--scope", "all"], approvals: [true, true])
                try #require(provisioned.status == 0, "\(provisioned.all)")
                let account = try #require(try await h.account("exchange-online"))
                let probe = AlertChannelProbe(harness: h, smtp: smtp)

                // The success notice first: the same vocabulary for a kind that needs no action.
                let protected = try await probe.delivered("account-protected") { $0.kind == "account-protected" }
                #expect(protected.mailSubject == "[tenantsync] Exchange Online protected.")
                protected.expectFact("tenant.domain", h.tenant.domain)
                protected.expectFact("account.service", "exchange-online")
                protected.expectFact("service.name", "Exchange Online")
                protected.expectFact("account.id", String(account.id))
                let protectedRun = try #require(protected.hookDetails["sync.run"].map { "\($0)" })
                protected.expectFact("sync.run", protectedRun)

                // Microsoft revokes every refresh token of the tenant: the next refresh answers invalid_grant AADSTS70008.
                let revoked = try h.emulator.revokeRefreshTokens(tenant: h.tenant.id, code: 70008)
                #expect(revoked >= 2, "both grants' refresh tokens revoked: \(revoked)")
                let invalid = try await probe.delivered("token-invalid of the graph grant", timeout: .seconds(90)) { alert in
                    alert.kind == "token-invalid" && alert.body.contains("grant \"graph\"")
                }
                let grant = try #require(try await h.detail(account.id).grants.first { $0.name == "graph" })
                let trace = try #require(grant.incident?.traceID, "the incident keeps Microsoft's trace id: \(grant)")
                #expect(grant.state == .invalid && grant.incident?.aadstsCode == 70008, "\(grant)")

                // The mail an administrator reads.
                #expect(
                    invalid.mailSubject == "[tenantsync] Access token invalid: Exchange Online for \(h.tenant.domain) (AADSTS70008)",
                    "\(invalid.mailSubject)"
                )
                #expect(
                    invalid.mailBody.contains("The access token of the Exchange Online service account of \(h.tenant.domain) (grant graph) is invalid."),
                    "\(invalid.mailBody)"
                )
                #expect(invalid.mailBody.contains("Exchange Online cannot be protected: threat and data-loss scanning"), "\(invalid.mailBody)")
                #expect(invalid.mailBody.contains("\n    tenantsyncctl renew \(account.id)\n"), "\(invalid.mailBody)")
                #expect(invalid.mailRow("Service") == "Exchange Online (exchange-online)", "\(invalid.mailBody)")
                #expect(invalid.mailRow("Tenant") == "\(h.tenant.domain) (\(h.tenant.id))", "\(invalid.mailBody)")
                #expect(invalid.mailRow("Grant") == "graph", "\(invalid.mailBody)")
                #expect(invalid.mailRow("AADSTS code") == "AADSTS70008", "\(invalid.mailBody)")
                #expect(invalid.mailRow("Microsoft trace id") == trace, "\(invalid.mailBody)")
                #expect(invalid.mailRow("Command") == "tenantsyncctl renew \(account.id)", "\(invalid.mailBody)")

                // Each fact on every channel: hook `details`, journal fields, mail text.
                invalid.expectFact("tenant.id", h.tenant.id)
                invalid.expectFact("tenant.domain", h.tenant.domain)
                invalid.expectFact("account.service", "exchange-online", mailText: "Exchange Online (exchange-online)")
                invalid.expectFact("service.name", "Exchange Online")
                invalid.expectFact("account.id", String(account.id))
                invalid.expectFact("grant.id", String(grant.id))
                invalid.expectFact("grant.name", "graph")
                invalid.expectFact("oauth.error", "invalid_grant")
                invalid.expectFact("aadsts.code", "70008", mailText: "AADSTS70008")
                invalid.expectFact("trace.id", trace)
                invalid.expectFact("command", "tenantsyncctl renew \(account.id)")
                #expect(invalid.journal["MESSAGE"] as? String == "Exchange Online token invalid for \(h.tenant.domain) (AADSTS70008)", "\(invalid.journal)")
                #expect(invalid.journal["PRIORITY"] as? String == "2")
                #expect(invalid.hook["kind"] as? String == "token-invalid" && invalid.hook["severity"] as? String == "critical")
                #expect((invalid.hook["account_id"] as? NSNumber)?.int64Value == account.id)
                // No token or secret on any channel.
                for text in [invalid.mailBody, "\(invalid.journal)", "\(invalid.hook)"] {
                    #expect(!text.contains(EmulatorDefaults.clientSecret))
                }
            }
        }
    }

    /// Runs `body` with a real journald, a real SMTP server and the daemon configured to mail it.
    private func withChannels(extraConfig: String = "", _ body: @Sendable (ProvisioningHarness, AlertChannelProbe) async throws -> Void) async throws {
        let smtp = try PlainSMTPServer()
        defer { smtp.stop() }
        try await smtp.start()
        try await Journald.with {
            try await ProvisioningHarness.with(extraConfig: AlertChannelProbe.smtpConfig(smtp) + "\n" + extraConfig) { h in
                try await body(h, AlertChannelProbe(harness: h, smtp: smtp))
            }
        }
    }

    @Test("a held mass deletion names the run, the counts, the share, the threshold and both commands on every channel")
    func massDeletionHeldReachesEveryChannelWithItsFacts() async throws {
        try await withChannels { h, probe in
            let provisioned = try await h.provision("exchange-online", ["--scope", "all"], approvals: [true, true])
            try #require(provisioned.status == 0, "\(provisioned.all)")
            for user in try h.emulator.users(tenant: h.tenant.id).prefix(8) {
                try h.emulator.deleteUser(tenant: h.tenant.id, user: user.id)
            }
            let sync = try await h.ctl(["sync", "--tenant", h.tenant.domain, "--wait"])
            #expect(sync.status == 75, "\(sync.all)")
            let held = try #require(try await h.withClient { try await $0.status() }.heldSyncs?.first)

            let alert = try await probe.delivered("mass-deletion-held") { $0.kind == "mass-deletion-held" }
            #expect(alert.mailSubject == "[tenantsync] Directory sync of \(h.tenant.domain) held: it would remove 8 of 30 users.", "\(alert.mailSubject)")
            alert.expectFact("tenant.id", h.tenant.id)
            alert.expectFact("tenant.domain", h.tenant.domain)
            alert.expectFact("sync.run", String(held.id))
            alert.expectFact("sync.removals", "8")
            alert.expectFact("sync.users", "30")
            alert.expectFact("sync.groups_removed", "0")
            alert.expectFact("sync.removed_share", "26.7%")
            alert.expectFact("sync.threshold", "20.0%")
            alert.expectFact("sync.confirm_command", "tenantsyncctl sync --tenant \(h.tenant.domain) --confirm-held")
            alert.expectFact("sync.discard_command", "tenantsyncctl sync --tenant \(h.tenant.domain) --discard-held")
            #expect(alert.mailRow("Confirm with") == "tenantsyncctl sync --tenant \(h.tenant.domain) --confirm-held", "\(alert.mailBody)")
        }
    }

    @Test("the evaluation budget warning and the 402 alert name the Teams Chat account, the domain, the counts and the command")
    func evaluationBudgetAlertsReachEveryChannelWithTheirFacts() async throws {
        let budget = 40
        try await withChannels(extraConfig: "[teams]\nevaluation_monthly_calls = \(budget)\n") { h, probe in
            var product = AppRegistration.product(clientID: EmulatorDefaults.clientID, secret: EmulatorDefaults.clientSecret, consented: true)
            product.monthlyCallLimit = budget
            try h.emulator.registerApp(tenant: h.tenant.id, product)
            let provisioned = try await h.provision("teams-chat")
            try #require(provisioned.status == 0, "\(provisioned.all)")
            let account = try #require(try await h.account("teams-chat"))
            // Syncs use up the budget until Microsoft answers 402.
            var exhausted = false
            for _ in 0..<budget where !exhausted {
                _ = try await h.ctl(["sync", "--tenant", h.tenant.domain, "--wait"])
                exhausted = try await h.alerts().contains { $0.kind == "evaluation-budget-exhausted" }
            }
            try #require(exhausted, "the budget never ran out")
            let command = "tenantsyncctl renew \(account.id) --app-id ID --secret-file FILE --licensing-model A|B"
            for kind in ["evaluation-budget-low", "evaluation-budget-exhausted"] {
                let alert = try await probe.delivered(kind) { $0.kind == kind }
                #expect(alert.mailSubject.contains("Teams Chat evaluation budget of \(h.tenant.domain)"), "\(alert.mailSubject)")
                alert.expectFact("tenant.domain", h.tenant.domain)
                alert.expectFact("account.service", "teams-chat")
                alert.expectFact("service.name", "Teams Chat")
                alert.expectFact("account.id", String(account.id))
                alert.expectFact("budget.limit", String(budget))
                let used = try #require(alert.hookDetails["budget.used"].map { "\($0)" })
                #expect(Int(used).map { $0 * 5 >= budget * 4 } == true, "\(kind) at \(used) of \(budget) calls")
                alert.expectFact("budget.used", used)
                let month = try #require(alert.hookDetails["budget.month"] as? String)
                #expect(month.count == 7 && month.hasPrefix("20"), "\(month)")
                alert.expectFact("budget.month", month)
                alert.expectFact("command", command)
            }
        }
    }

    @Test("the Inline Mode outbound upgrade and the activity-data grant name the account, the connector and the grant on every channel")
    func inlineModeAlertsReachEveryChannelWithTheirFacts() async throws {
        try await withChannels { h, probe in
            try h.emulator.assignRole(tenant: h.tenant.id, appId: EmulatorDefaults.clientID, kind: .active)
            let provisioned = try await h.provision("exchange-online-inline", ["--direction", "inbound"], approvals: [true, true])
            try #require(provisioned.status == 0, "\(provisioned.all)")
            let account = try #require(try await h.account("exchange-online-inline"))
            let upgrade = try await h.ctl(["upgrade-outbound", String(account.id)])
            try #require(upgrade.status == 0, "\(upgrade.all)")
            let granted = try await h.ctl(["grant-activity-data", String(account.id), "--device-code"], approvals: [true])
            try #require(granted.status == 0, "\(granted.all)")

            let protected = try await probe.delivered("account-protected") { $0.kind == "account-protected" }
            #expect(protected.mailSubject == "[tenantsync] Successfully created a service account and synced data.")
            protected.expectFact("service.name", "Exchange Online (Inline Mode)")
            protected.expectFact("tenant.domain", h.tenant.domain)

            let upgraded = try await probe.delivered("inline-outbound-upgraded") { $0.kind == "inline-outbound-upgraded" }
            #expect(upgraded.mailSubject.contains("Exchange Online (Inline Mode) of \(h.tenant.domain) now protects outbound messages too"))
            upgraded.expectFact("tenant.domain", h.tenant.domain)
            upgraded.expectFact("account.service", "exchange-online-inline")
            upgraded.expectFact("service.name", "Exchange Online (Inline Mode)")
            upgraded.expectFact("account.id", String(account.id))
            upgraded.expectFact("mail_flow.connector", "tenantsync Inline Protection (outbound)")

            let activity = try await probe.delivered("activity-data-granted") { $0.kind == "activity-data-granted" }
            activity.expectFact("tenant.domain", h.tenant.domain)
            activity.expectFact("service.name", "Exchange Online (Inline Mode)")
            activity.expectFact("account.id", String(account.id))
            activity.expectFact("grant.name", "activity-data")
        }
    }
}
