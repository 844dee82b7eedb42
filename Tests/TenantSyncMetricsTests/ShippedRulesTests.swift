import Foundation
import Testing
import TestSupport

/// The alert rules under contrib/prometheus, checked and unit-tested by the real promtool.
@Suite("Shipped Prometheus rules")
struct ShippedRulesTests {
    @Test("promtool check rules accepts tenantsync.rules.yml")
    func rulesAreValid() async throws {
        let result = try await ChildProcess.run(ShippedFiles.promtool, ["check", "rules", ShippedFiles.rules])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.all.contains("SUCCESS: 9 rules found"), "\(result.all)")
    }

    @Test("promtool test rules: every rule fires on its broken state and stays silent on a healthy one")
    func ruleUnitTestsPass() async throws {
        let result = try await ChildProcess.run(ShippedFiles.promtool, ["test", "rules", ShippedFiles.ruleTests])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.all.contains("SUCCESS"), "\(result.all)")
    }

    @Test("every rule of the file has a unit test")
    func everyRuleIsTested() throws {
        let rules = try String(contentsOfFile: ShippedFiles.rules, encoding: .utf8)
        let tests = try String(contentsOfFile: ShippedFiles.ruleTests, encoding: .utf8)
        let names = rules.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("- alert: ") ? String(trimmed.dropFirst("- alert: ".count)) : nil
        }
        #expect(names.count == 9, "\(names)")
        for name in names {
            #expect(tests.contains("alertname: \(name)\n"), "rule \(name) has no promtool test")
        }
    }

    @Test("the dashboard is valid JSON whose every panel has a query")
    func dashboardIsValid() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: ShippedFiles.dashboard))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let queried = panels.filter { $0["type"] as? String != "row" }
        #expect(queried.count >= 20)
        for panel in queried {
            let targets = panel["targets"] as? [[String: Any]] ?? []
            #expect(!targets.isEmpty && targets.allSatisfy { ($0["expr"] as? String)?.contains("tenantsync_") == true }, "\(panel["title"] ?? "?")")
        }
    }
}
