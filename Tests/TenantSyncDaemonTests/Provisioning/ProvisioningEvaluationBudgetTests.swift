import ControlPlane
import Foundation
import M365Emulator
import Testing
import TestSupport

/// Teams Chat in evaluation mode tracks its monthly API budget and warns before Microsoft answers 402.
extension ProvisioningTests {
    @Test func teamsChatEvaluationModeWarnsAt80PercentOfItsMonthlyBudgetBeforeMicrosoftAnswers402() async throws {
        let budget = 40
        try await ProvisioningHarness.with(extraConfig: "[teams]\nevaluation_monthly_calls = \(budget)\n") { h in
            // The product's app in this tenant is metered like evaluation mode: past `budget` Graph calls a month, 402.
            var product = AppRegistration.product(clientID: EmulatorDefaults.clientID, secret: EmulatorDefaults.clientSecret, consented: true)
            product.monthlyCallLimit = budget
            try h.emulator.registerApp(tenant: h.tenant.id, product)

            let provisioned = try await h.provision("teams-chat")
            #expect(provisioned.status == 0, "\(provisioned.all)")
            let account = try #require(try await h.account("teams-chat"))
            #expect(try await h.detail(account.id).licensingModel == .evaluation)
            let afterFirstSync = try await calls(h, account.id)
            #expect(afterFirstSync > 0, "the first sync's Graph calls are counted")
            // The daemon counted every call the emulator metered: the permission probes, the verification and the sync.
            let metered = try h.emulator.monthlyCalls(tenant: h.tenant.id, appId: EmulatorDefaults.clientID)
            #expect(afterFirstSync == metered, "the daemon counted \(afterFirstSync) calls, the emulator metered \(metered)")

            var callsAtWarning: Int?
            var exhausted = false
            for _ in 0..<budget {
                let sync = try await h.ctl(["sync", "--tenant", h.tenant.domain, "--wait"])
                let kinds = try await h.alerts().map(\.kind)
                if callsAtWarning == nil, kinds.contains("evaluation-budget-low") {
                    callsAtWarning = try await calls(h, account.id)
                    #expect(sync.status == 0, "the warning comes while calls still succeed: \(sync.all)")
                    #expect(!kinds.contains("evaluation-budget-exhausted"), "warned only after the budget ran out")
                }
                if kinds.contains("evaluation-budget-exhausted") {
                    exhausted = true
                    #expect(sync.status != 0, "the sync Microsoft refused with 402 did not fail: \(sync.all)")
                    #expect(sync.all.contains("402"), "\(sync.all)")
                    break
                }
                #expect(sync.status == 0, "\(sync.all)")
            }
            let warnedAt = try #require(callsAtWarning, "no evaluation-budget-low alert before the budget ran out")
            #expect(warnedAt * 5 >= budget * 4 && warnedAt < budget, "warned at \(warnedAt) of \(budget) calls")
            #expect(exhausted, "Microsoft's 402 raised no evaluation-budget-exhausted alert")
            let alerts = try await h.alerts()
            #expect(alerts.filter { $0.kind == "evaluation-budget-low" }.count == 1, "one warning per month")
            #expect(alerts.filter { $0.kind == "evaluation-budget-exhausted" }.count == 1)
            let warning = try #require(alerts.first { $0.kind == "evaluation-budget-low" })
            #expect(warning.severity == .warning && warning.accountID == account.id)
            #expect(warning.body.contains("of its \(budget) monthly Graph calls") && warning.body.contains("tenantsyncctl renew \(account.id)"), "\(warning.body)")
            // Delivered through the alert channels like every alert.
            let delivered = try await eventually(timeout: .seconds(10), "hook delivery") {
                ((try? String(contentsOfFile: h.directory + "/alerts.jsonl", encoding: .utf8)) ?? "").contains("evaluation-budget-low")
            }
            #expect(delivered, "the budget warning never reached the hook")
        }
    }

    private func calls(_ h: ProvisioningHarness, _ id: Int64) async throws -> Int {
        guard case .string(let text)? = try await h.detail(id).details["evaluation.calls"] else { return 0 }
        return Int(text) ?? 0
    }
}
