import ControlPlane
import Foundation
import M365Emulator
import Testing
import TestSupport

/// Exchange Online (Inline Mode) beyond the consents: the mail flow in Exchange, the outbound upgrade and the activity-data
/// permission, driven through tenantsyncctl against the real daemon; Exchange's state is read from the emulator's admin API.
@Suite(.serialized) struct ProvisioningInlineTests {
    static let inbound = "tenantsync Inline Protection (inbound)"
    static let outbound = "tenantsync Inline Protection (outbound)"

    private func names(_ objects: [[String: ExchangeValue]]) -> [String] {
        objects.compactMap { if case .string(let name)? = $0["Name"] { name } else { nil } }
    }

    private func alertsFile(_ h: ProvisioningHarness) -> String {
        (try? String(contentsOfFile: h.directory + "/alerts.jsonl", encoding: .utf8)) ?? ""
    }

    @Test func provisioningConfiguresInboundOutboundAndThePolicyRuleInExchange() async throws {
        try await ProvisioningHarness.with { h in
            try h.emulator.assignRole(tenant: h.tenant.id, appId: EmulatorDefaults.clientID, kind: .active)
            let run = try await h.provision("exchange-online-inline", ["--policy", "Strict Inline"], approvals: [true, true])
            #expect(run.status == 0, "\(run.all)")
            #expect(run.stdout.contains("Successfully created a service account and synced data."), "\(run.stdout)")

            let exchange = try h.emulator.exchangeConfiguration(tenant: h.tenant.id)
            #expect(names(exchange.inboundConnectors) == [Self.inbound])
            #expect(names(exchange.outboundConnectors) == [Self.outbound], "direction both is the default")
            let rule = try #require(exchange.transportRules.first)
            #expect(exchange.transportRules.count == 1)
            #expect(rule["Name"] == .string("tenantsync Inline Protection - Strict Inline"))
            #expect(rule["State"] == .string("Enabled"), "the policy is enabled on completion")
            #expect(rule["SetHeaderValue"] == .string("Strict Inline"))

            let account = try #require(try await h.account("exchange-online-inline"))
            let detail = try await h.detail(account.id)
            #expect(detail.state == .active && detail.inlinePolicy == "Strict Inline" && detail.inlineDirection == .both)
            let shown = try await h.ctl(["account", String(account.id)])
            #expect(shown.stdout.contains("Strict Inline") && shown.stdout.contains("both (inbound and outbound)"), "\(shown.stdout)")
            let json = try await h.ctl(["--json", "account", String(account.id)])
            #expect(json.stdout.contains("\"inline_direction\" : \"both\"") || json.stdout.contains("\"inline_direction\":\"both\""), "\(json.stdout)")
            #expect(json.stdout.contains("Strict Inline"))
            #expect(try await eventually("the success notice on the hook channel") { alertsFile(h).contains("Successfully created a service account and synced data.") })
        }
    }

    @Test func inboundOnlyCreatesNoOutboundConnectorUntilTheUpgrade() async throws {
        try await ProvisioningHarness.with { h in
            try h.emulator.assignRole(tenant: h.tenant.id, appId: EmulatorDefaults.clientID, kind: .pimActive)
            let run = try await h.provision("exchange-online-inline", ["--direction", "inbound"], approvals: [true, true])
            #expect(run.status == 0, "\(run.all)")
            var exchange = try h.emulator.exchangeConfiguration(tenant: h.tenant.id)
            #expect(names(exchange.inboundConnectors) == [Self.inbound])
            #expect(exchange.outboundConnectors.isEmpty, "inbound only: no outbound connector")
            #expect(exchange.transportRules.first?["Name"] == .string("tenantsync Inline Protection - Default Inline Protection"))
            let account = try #require(try await h.account("exchange-online-inline"))
            #expect(try await h.detail(account.id).inlineDirection == .inbound)

            // Exchange answering 403: a clear error naming the role; nothing changes.
            let fault = try h.emulator.addFault(FaultRule(tenant: h.tenant.id, path: "InvokeCommand", kind: .status, status: 403))
            let refused = try await h.ctl(["upgrade-outbound", String(account.id)])
            #expect(refused.status != 0)
            #expect(refused.all.contains("Exchange Administrator role"), "\(refused.all)")
            #expect(try await h.detail(account.id).inlineDirection == .inbound)
            #expect(try h.emulator.exchangeConfiguration(tenant: h.tenant.id).outboundConnectors.isEmpty)
            try h.emulator.removeFault(id: try #require(fault.id))

            let upgrade = try await h.ctl(["upgrade-outbound", String(account.id)])
            #expect(upgrade.status == 0, "\(upgrade.all)")
            #expect(upgrade.stdout.contains("now protects outbound messages too"), "\(upgrade.stdout)")
            exchange = try h.emulator.exchangeConfiguration(tenant: h.tenant.id)
            #expect(names(exchange.outboundConnectors) == [Self.outbound])
            #expect(try await h.detail(account.id).inlineDirection == .both)
            #expect(try await eventually("the upgrade alert on the hook channel") { alertsFile(h).contains("inline-outbound-upgraded") })

            let again = try await h.ctl(["upgrade-outbound", String(account.id)])
            #expect(again.status != 0)
            #expect(again.all.contains("already protects inbound and outbound"), "\(again.all)")
            #expect(try h.emulator.exchangeConfiguration(tenant: h.tenant.id).outboundConnectors.count == 1)

            // Not an Inline Mode account: refused.
            let teams = try await h.provision("teams-chat")
            #expect(teams.status == 0, "\(teams.all)")
            let teamsAccount = try #require(try await h.account("teams-chat"))
            let wrong = try await h.ctl(["upgrade-outbound", String(teamsAccount.id)])
            #expect(wrong.status != 0)
            #expect(wrong.all.contains("only Exchange Online (Inline Mode) accounts"), "\(wrong.all)")
        }
    }

    @Test func exchangeAnswering403LeavesTheAccountProvisioningAndTheRetryCreatesNoDuplicates() async throws {
        try await ProvisioningHarness.with { h in
            try h.emulator.assignRole(tenant: h.tenant.id, appId: EmulatorDefaults.clientID, kind: .active)
            let fault = try h.emulator.addFault(FaultRule(tenant: h.tenant.id, path: "InvokeCommand", kind: .status, status: 403))
            let failed = try await h.provision("exchange-online-inline", approvals: [true, true])
            #expect(failed.status != 0)
            #expect(failed.all.contains("Exchange Administrator role"), "\(failed.all)")
            let account = try #require(try await h.account("exchange-online-inline"))
            var detail = try await h.detail(account.id)
            #expect(detail.state == .provisioning && detail.provisioningStep == "finish")
            #expect(detail.provisioningError?.contains("Exchange Administrator role") == true, "\(detail.provisioningError ?? "")")
            #expect(try h.emulator.exchangeConfiguration(tenant: h.tenant.id).inboundConnectors.isEmpty)

            try h.emulator.removeFault(id: try #require(fault.id))
            let retry = try await h.provision("exchange-online-inline")
            #expect(retry.status == 0, "\(retry.all)")
            detail = try await h.detail(account.id)
            #expect(detail.state == .active)

            // A second provisioning after a deprovision finds the objects by name: still one of each.
            #expect(try await h.ctl(["deprovision", String(account.id)]).status == 0)
            let again = try await h.provision("exchange-online-inline", approvals: [true, true])
            #expect(again.status == 0, "\(again.all)")
            let exchange = try h.emulator.exchangeConfiguration(tenant: h.tenant.id)
            #expect(exchange.inboundConnectors.count == 1 && exchange.outboundConnectors.count == 1 && exchange.transportRules.count == 1)
        }
    }

    @Test func upgradeIsRefusedWhileTheAccountIsNotActive() async throws {
        try await ProvisioningHarness.with { h in
            // No role: provisioning stops at the role step, the account stays provisioning.
            let missing = try await h.provision("exchange-online-inline", ["--direction", "inbound"], approvals: [true, true])
            #expect(missing.status != 0)
            let account = try #require(try await h.account("exchange-online-inline"))
            let refused = try await h.ctl(["upgrade-outbound", String(account.id)])
            #expect(refused.status != 0)
            #expect(refused.all.contains("not active"), "\(refused.all)")
        }
    }

    @Test func activityDataIsGrantedVerifiedAndRefreshedOrDeclinedWithoutChange() async throws {
        try await ProvisioningHarness.with(extraConfig: "[tokens]\nrefresh_margin = \"30s\"") { h in
            try h.emulator.assignRole(tenant: h.tenant.id, appId: EmulatorDefaults.clientID, kind: .active)
            #expect(try await h.provision("exchange-online-inline", approvals: [true, true]).status == 0)
            let account = try #require(try await h.account("exchange-online-inline"))

            let declined = try await h.ctl(["grant-activity-data", String(account.id), "--device-code"], approvals: [false])
            #expect(declined.status != 0)
            #expect(declined.all.contains("declined the consent"), "\(declined.all)")
            var detail = try await h.detail(account.id)
            #expect(detail.state == .active && !detail.grants.contains { $0.name == "activity-data" })

            // Short-lived tokens from now on, so the refresher renews the new grant within the test.
            _ = try h.emulator.updateSettings(tenant: h.tenant.id, TenantSettingsPatch(accessTokenLifetimeSeconds: 50))
            let granted = try await h.ctl(["grant-activity-data", String(account.id), "--device-code"], approvals: [true])
            #expect(granted.status == 0, "\(granted.all)")
            detail = try await h.detail(account.id)
            let grant = try #require(detail.grants.first { $0.name == "activity-data" })
            #expect(grant.resource == "\(h.baseURL)/manage/.default" && grant.state == .valid && grant.flow == .delegated)
            #expect(grant.token?.scopes.contains { $0.contains("ActivityFeed.Read") } == true, "\(grant.token?.scopes ?? [])")
            #expect(try h.emulator.counters(tenant: h.tenant.id)["management", default: 0] >= 1, "verified with subscriptions/list")
            #expect(try await eventually("the activity-data event on the hook channel") { alertsFile(h).contains("activity-data-granted") })
            // The refresher replaces the consent's tokens with refreshed ones (a later obtained-at, still for the management audience).
            let consented = try #require(grant.token?.obtainedAt)
            #expect(try await eventually(timeout: .seconds(60), "the refresher renews the activity-data tokens") {
                let token = try await h.detail(account.id).grants.first { $0.name == "activity-data" }?.token
                return (token?.obtainedAt ?? consented) > consented && token?.lastRefreshOutcome == "ok"
            })
            let refreshed = try #require(try await h.detail(account.id).grants.first { $0.name == "activity-data" })
            #expect(refreshed.state == .valid && refreshed.token?.scopes.contains { $0.contains("ActivityFeed.Read") } == true)

            // Renewing the account consents again to every delegated grant, the activity-data one included.
            let renewed = try await h.ctl(["renew", String(account.id), "--device-code"], approvals: [true, true, true])
            #expect(renewed.status == 0, "\(renewed.all)")
            #expect(renewed.stdout.contains("Renewed mail-flow, graph, activity-data"), "\(renewed.stdout)")

            // Not for other services.
            let teams = try await h.provision("teams-chat")
            #expect(teams.status == 0, "\(teams.all)")
            let teamsAccount = try #require(try await h.account("teams-chat"))
            let wrong = try await h.ctl(["grant-activity-data", String(teamsAccount.id), "--device-code"])
            #expect(wrong.status != 0 && wrong.all.contains("only Exchange Online (Inline Mode) accounts have the activity-data permission"), "\(wrong.all)")
        }
    }
}
