import ControlPlane
import Foundation
import M365Emulator
import Testing
import TestSupport

/// provisioning every service end to end through `tenantsyncctl`, the real daemon and the emulator.
@Suite("Provisioning", .serialized)
struct ProvisioningTests {
    @Test func exchangeOnlineTwoConsentsThenScopeThenProtected() async throws {
        try await ProvisioningHarness.with { h in
            let run = try await h.provision("exchange-online", ["--scope", "all"], approvals: [true, true])
            #expect(run.status == 0, "\(run.all)")
            #expect(run.stdout.contains("Exchange Online protected."), "\(run.stdout)")
            let account = try #require(try await h.account("exchange-online"))
            #expect(account.state == .active)
            #expect(account.tenantID == h.tenant.id, "the tenant is recorded by its GUID")
            #expect(account.tenantDomain == h.tenant.domain)
            let detail = try await h.detail(account.id)
            #expect(detail.grants.map(\.name).sorted() == ["ews", "graph"])
            #expect(detail.grants.allSatisfy { $0.state == .valid })
            #expect(detail.grants.first { $0.name == "ews" }?.resource.contains("outlook") == true)
            #expect(detail.provisioningStep == nil && detail.provisioningError == nil)
            #expect(detail.lastSync?.trigger == .provision && detail.lastSync?.state == .succeeded)
            let notice = try await h.alerts().first { $0.kind == "account-protected" }
            #expect(notice?.subject == "Exchange Online protected.")
            // One delivery per configured channel: the hook, plus the journal where journald listens.
            #expect(notice?.deliveries.map(\.channel).contains("hook:record") == true, "\(String(describing: notice))")
            // The outbox delivers it through the hook: its JSON reaches the file.
            let delivered = try await eventually(timeout: .seconds(10), "hook delivery") {
                ((try? String(contentsOfFile: h.directory + "/alerts.jsonl", encoding: .utf8)) ?? "").contains("Exchange Online protected.")
            }
            #expect(delivered, "the account-protected alert never reached the hook")
            // The EWS consent came first: the first device code asked for the Exchange resource.
            #expect(!run.all.contains(EmulatorDefaults.clientSecret))

            // A second provisioning of the same tenant and service is refused.
            let again = try await h.provision("exchange-online", ["--scope", "all"])
            #expect(again.status != 0)
            #expect(again.stderr.contains("already has an Exchange Online service account"), "\(again.all)")

            // Renew: two new consents replace both grants' tokens. Proved by the daemon's store: each grant's token-set
            // generation moved by exactly one (the store bumps it on every token set it writes), and Microsoft issued them.
            let generationsBefore = try await h.tokenGenerations(accountID: account.id)
            #expect(generationsBefore.keys.sorted() == ["ews", "graph"], "\(generationsBefore)")
            let issuedBefore = try h.emulator.counters(tenant: h.tenant.id)["token.issued"] ?? 0
            let renewed = try await h.ctl(["renew", "\(account.id)", "--device-code"], approvals: [true, true])
            #expect(renewed.status == 0, "\(renewed.all)")
            let issued = (try h.emulator.counters(tenant: h.tenant.id)["token.issued"] ?? 0) - issuedBefore
            #expect(issued >= 2, "token sets issued during renew: \(issued)")
            let generationsAfter = try await h.tokenGenerations(accountID: account.id)
            for (grant, generation) in generationsBefore {
                #expect(generationsAfter[grant] == generation + 1, "grant \(grant): stored generation \(generation) before renew, \(String(describing: generationsAfter[grant])) after")
            }
            #expect(try await h.alerts().contains { $0.kind == "token-renewed" })
        }
    }

    @Test func declinedConsentLeavesTheStepFailedAndARetryResumesIt() async throws {
        try await ProvisioningHarness.with { h in
            let declined = try await h.provision("exchange-online", ["--scope", "all"], approvals: [false])
            #expect(declined.status != 0)
            #expect(declined.all.contains("declined"), "\(declined.all)")
            let account = try #require(try await h.account("exchange-online"))
            #expect(account.state == .provisioning)
            let detail = try await h.detail(account.id)
            #expect(detail.provisioningStep == "consent-ews")
            #expect(detail.provisioningError?.contains("declined") == true)
            #expect(try await h.alerts().contains { $0.kind == "provisioning-failed" })

            let retried = try await h.provision("exchange-online", ["--scope", "all"], approvals: [true, true])
            #expect(retried.status == 0, "\(retried.all)")
            #expect(try await h.detail(account.id).state == .active, "the same account was resumed")
        }
    }

    @Test func oneDriveShowsTheAppPrincipalStepAndDeprovisionNamesTheCleanUp() async throws {
        try await ProvisioningHarness.with { h in
            let run = try await h.provision("onedrive", ["--scope", "all", "--confirm-app-principal"], approvals: [true])
            #expect(run.status == 0, "\(run.all)")
            #expect(run.stdout.contains("App Id: \(EmulatorDefaults.clientID)"), "\(run.stdout)")
            #expect(run.stdout.contains("_layouts/15/AppInv.aspx"))
            #expect(run.stdout.contains("_layouts/15/TA_AllAppPrincipals.aspx"))
            #expect(run.stdout.contains("<AppPermissionRequests AllowAppOnlyPolicy=\"true\">"))
            #expect(run.stdout.contains("Scope=\"http://sharepoint/content/tenant\" Right=\"Manage\""))
            #expect(run.stdout.contains("OneDrive protected."))
            let account = try #require(try await h.account("onedrive"))
            #expect(account.state == .active)

            let removed = try await h.ctl(["deprovision", "\(account.id)"])
            #expect(removed.status == 0, "\(removed.all)")
            #expect(removed.stdout.contains("TA_AllAppPrincipals.aspx") && removed.stdout.contains(EmulatorDefaults.clientID), "\(removed.stdout)")
            #expect(try await h.account("onedrive") == nil)
            #expect(try await h.alerts().contains { $0.kind == "account-deprovisioned" })
        }
    }

    @Test func sharePointWithoutConfirmationWaitsAtTheAppPrincipalStep() async throws {
        try await ProvisioningHarness.with { h in
            let run = try await h.provision("sharepoint-online", ["--scope", "all"], approvals: [true])
            #expect(run.status != 0, "no terminal, no --confirm-app-principal: the CLI stops")
            #expect(run.all.contains("--confirm-app-principal"), "\(run.all)")
            let account = try #require(try await h.account("sharepoint-online"))
            #expect(try await h.detail(account.id).provisioningStep == "app-principal")
            let resumed = try await h.provision("sharepoint-online", ["--scope", "all", "--confirm-app-principal"])
            #expect(resumed.status == 0, "\(resumed.all)")
            #expect(resumed.stdout.contains("SharePoint Online protected."))
        }
    }

    @Test func teamsChatWithTheCustomersOwnApp() async throws {
        try await ProvisioningHarness.with { h in
            try h.registerTeamsApp()
            let wrong = try await h.provision("teams-chat", [
                "--app-id", ProvisioningHarness.teamsAppID, "--secret-file", try h.secretFile("not-the-secret"), "--licensing-model", "A",
            ])
            #expect(wrong.status != 0)
            #expect(wrong.all.contains("invalid_client"), "\(wrong.all)")
            let account = try #require(try await h.account("teams-chat"))
            #expect(try await h.detail(account.id).provisioningStep == "app-credentials")

            let run = try await h.provision("teams-chat", [
                "--app-id", ProvisioningHarness.teamsAppID, "--secret-file", try h.secretFile(ProvisioningHarness.teamsSecret),
                "--licensing-model", "B", "--secret-expires", "2027-06-30",
            ])
            #expect(run.status == 0, "\(run.all)")
            #expect(run.stdout.contains("Teams Chat protected."))
            #expect(!run.all.contains(ProvisioningHarness.teamsSecret))
            let detail = try await h.detail(account.id)
            #expect(detail.state == .active)
            #expect(detail.appID == ProvisioningHarness.teamsAppID)
            #expect(detail.licensingModel == .b)
            #expect(detail.grants.map(\.flow) == [.clientCredentials])
            // The secret's expiry is stored for the expiry alerts, and `status` names it as the nearest.
            #expect(detail.clientSecretExpiresAt == Date(timeIntervalSince1970: 1_814_313_600))
            let status = try await h.ctl(["status"])
            #expect(status.stdout.contains("Nearest credential expiry: secret of the Teams Chat app of account \(account.id)"), "\(status.all)")
        }
    }

    @Test func teamsChatNamesTheMissingPermission() async throws {
        try await ProvisioningHarness.with { h in
            try h.registerTeamsApp(permissions: ["Chat.Read.All", "User.Read.All"])
            let run = try await h.provision("teams-chat", [
                "--app-id", ProvisioningHarness.teamsAppID, "--secret-file", try h.secretFile(ProvisioningHarness.teamsSecret),
                "--licensing-model", "A",
            ])
            #expect(run.status != 0)
            #expect(run.all.contains("Group.Read.All"), "\(run.all)")
            #expect(!run.all.contains("lacks the Microsoft Graph application permission(s) User.Read.All"))
        }
    }

    /// Each permission is proved by a Graph call that needs it (never by reading the token): an app lacking
    /// exactly one is refused with that one named, and none of the others.
    @Test(arguments: ProvisioningHarness.teamsPermissions)
    func teamsChatNamesEachMissingPermissionFoundByAGraphCall(_ lacking: String) async throws {
        try await ProvisioningHarness.with { h in
            try h.registerTeamsApp(permissions: ProvisioningHarness.teamsPermissions.filter { $0 != lacking })
            let run = try await h.provision("teams-chat", [
                "--app-id", ProvisioningHarness.teamsAppID, "--secret-file", try h.secretFile(ProvisioningHarness.teamsSecret),
                "--licensing-model", "A",
            ])
            #expect(run.status != 0)
            #expect(run.all.contains("lacks the Microsoft Graph application permission(s) \(lacking) in"), "\(run.all)")
            for other in ProvisioningHarness.teamsPermissions where other != lacking {
                #expect(!run.all.contains("permission(s) \(other)") && !run.all.contains(", \(other)"), "\(other) was wrongly named: \(run.all)")
            }
            let account = try #require(try await h.account("teams-chat"))
            let detail = try await h.detail(account.id)
            #expect(detail.state == .provisioning && detail.provisioningStep == "app-credentials" && detail.grants.isEmpty)
        }
    }

    @Test func teamsChatWithoutOwnAppIsInEvaluationMode() async throws {
        try await ProvisioningHarness.with { h in
            let run = try await h.provision("teams-chat")
            #expect(run.status == 0, "\(run.all)")
            let account = try #require(try await h.account("teams-chat"))
            #expect(try await h.detail(account.id).licensingModel == .evaluation)
        }
    }

    @Test func selectedScopeWithAnUnknownUserFailsAtTheScopeStep() async throws {
        try await ProvisioningHarness.with { h in
            let run = try await h.provision(
                "exchange-online", ["--scope", "selected", "--user", "nobody-here@\(h.tenant.domain)"], approvals: [true, true]
            )
            #expect(run.status != 0)
            #expect(run.all.contains("nobody-here@\(h.tenant.domain)"), "\(run.all)")
            let account = try #require(try await h.account("exchange-online"))
            let detail = try await h.detail(account.id)
            #expect(detail.state == .provisioning && detail.provisioningStep == "scope")

            // Retrying the scope step with a real user completes it, with no new consent.
            let user = try #require(try h.emulator.users(tenant: h.tenant.id, limit: 3).last)
            let retried = try await h.provision("exchange-online", ["--scope", "selected", "--user", user.userPrincipalName])
            #expect(retried.status == 0, "\(retried.all)")
            let targets = try await h.withClient { try await $0.listTargets(tenant: h.tenant.domain) }
            #expect(targets.scope == .selected)
            #expect(targets.targets.map { $0.userPrincipalName.lowercased() } == [user.userPrincipalName.lowercased()])
        }
    }

    @Test func aTwoCharacterGroupPrefixIsRefused() async throws {
        try await ProvisioningHarness.with { h in
            let run = try await h.provision("exchange-online", ["--scope", "selected", "--group-prefix", "Gr"], approvals: [true, true])
            #expect(run.status != 0)
            #expect(run.all.contains("at least 3 characters"), "\(run.all)")
            let account = try #require(try await h.account("exchange-online"))
            #expect(try await h.detail(account.id).provisioningStep == "scope")
        }
    }

    @Test func theSharedScopeRuleRefusesADifferentScope() async throws {
        try await ProvisioningHarness.with { h in
            let first = try await h.provision("exchange-online", ["--scope", "all"], approvals: [true, true])
            #expect(first.status == 0, "\(first.all)")
            let user = try #require(try h.emulator.users(tenant: h.tenant.id, limit: 1).first)
            let second = try await h.provision(
                "onedrive", ["--scope", "selected", "--user", user.userPrincipalName, "--confirm-app-principal"], approvals: [true]
            )
            #expect(second.status != 0)
            #expect(second.all.contains("must use the same sync scope"), "\(second.all)")
            let account = try #require(try await h.account("onedrive"))
            #expect(try await h.detail(account.id).provisioningStep == "scope")
        }
    }

    @Test func inlineModeNeedsTheExchangeAdministratorRole() async throws {
        try await ProvisioningHarness.with { h in
            let missing = try await h.provision("exchange-online-inline", approvals: [true, true])
            #expect(missing.status != 0)
            #expect(missing.all.contains("Exchange Administrator role is not assigned"), "\(missing.all)")
            let account = try #require(try await h.account("exchange-online-inline"))
            #expect(try await h.detail(account.id).provisioningStep == "exchange-role")

            // Only eligible through Privileged Identity Management: an app cannot activate it, so the step is refused again.
            try h.emulator.assignRole(tenant: h.tenant.id, appId: EmulatorDefaults.clientID, kind: .eligible)
            let eligible = try await h.provision("exchange-online-inline")
            #expect(eligible.status != 0)
            #expect(eligible.all.contains("only eligible for the Exchange Administrator role") && eligible.all.contains("assignment type Active"), "\(eligible.all)")
            #expect(try await h.detail(account.id).provisioningStep == "exchange-role")

            // Made active through PIM, time-bound: the retry passes without new consents, and the end is recorded.
            try h.emulator.assignRole(tenant: h.tenant.id, appId: EmulatorDefaults.clientID, kind: .pimActive, endDateTime: "2027-05-20T00:00:00Z")
            let run = try await h.provision("exchange-online-inline")
            #expect(run.status == 0, "\(run.all)")
            #expect(run.stdout.contains("Successfully created a service account and synced data."))
            let detail = try await h.detail(account.id)
            #expect(detail.details["exchangeRole.assignment"] == .string("active-pim"))
            #expect(detail.details["exchangeRole.endsAt"] == .string("2027-05-20T00:00:00Z"))
        }
    }

    @Test func inlineModeAcceptsAPlainActiveAssignment() async throws {
        try await ProvisioningHarness.with { h in
            try h.emulator.assignRole(tenant: h.tenant.id, appId: EmulatorDefaults.clientID, kind: .active)
            let run = try await h.provision("exchange-online-inline", approvals: [true, true])
            #expect(run.status == 0, "\(run.all)")
            let account = try #require(try await h.account("exchange-online-inline"))
            let detail = try await h.detail(account.id)
            #expect(detail.details["exchangeRole.assignment"] == .string("active"))
            #expect(detail.details["exchangeRole.endsAt"] == nil)
        }
    }
}
