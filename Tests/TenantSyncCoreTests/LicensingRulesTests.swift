import Testing
import TenantSyncCore

/// Teams Chat licensing: model B scans and passes, never blocks.
struct LicensingRulesTests {
    @Test func modelBRefusesBlockingWithAClearError() throws {
        let error = #expect(throws: TenantSyncError.self) { try LicensingRules.checkBlockingAllowed(.b) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("licensing model B") == true)
        #expect(error?.message.contains("model A") == true)
        #expect(error?.context["licensing.model"] == "B")
    }

    @Test(arguments: [LicensingModel.a, .evaluation])
    func otherModelsMayBlock(_ model: LicensingModel) throws {
        try LicensingRules.checkBlockingAllowed(model)
    }

    @Test func noModelMeansNoRestriction() throws {
        try LicensingRules.checkBlockingAllowed(nil)
    }

    @Test func theEvaluationBudgetWarnsFromEightyPercent() {
        #expect(!LicensingRules.budgetWarning(used: 799, limit: 1000))
        #expect(LicensingRules.budgetWarning(used: 800, limit: 1000))
        #expect(LicensingRules.budgetWarning(used: 1000, limit: 1000))
        #expect(!LicensingRules.budgetWarning(used: 5, limit: 0))
    }
}
