import Foundation
import Logging
import TenantSyncCore

/// Tracks the monthly Graph call budget of Teams Chat accounts in evaluation mode and warns before it runs out.
///
/// Evaluation mode (the product's app, no licence, no payment) allows a limited number of API calls a
/// month; past it Microsoft answers 402 Payment Required and scanning stops until the next month. The
/// daemon counts the calls it makes with an evaluation account's grant (the grant the tenant's sync
/// uses), keeps the count in the account's details (so a restart loses nothing), raises one warning
/// alert per month at 80 % (``LicensingRules/budgetWarning(used:limit:)``) and one alert when Microsoft
/// refuses with 402.
actor EvaluationBudget: GraphCallMeter {
    let storage: any TenantSyncStorage
    let tokens: StoredGraphTokenSource
    let monthlyCalls: Int
    /// Read at each alert: hooks and SMTP are reloadable.
    private let currentAlertChannels: @Sendable () -> [String]
    var alertChannels: [String] { currentAlertChannels() }
    let now: @Sendable () -> Date
    let logger: Logger

    init(
        storage: any TenantSyncStorage, tokens: StoredGraphTokenSource, monthlyCalls: Int,
        alertChannels: @autoclosure @escaping @Sendable () -> [String],
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.storage = storage
        self.tokens = tokens
        self.monthlyCalls = monthlyCalls
        self.currentAlertChannels = alertChannels
        self.now = now
        self.logger = logger
    }

    /// The usage of each metered account, owned here: the sync makes calls concurrently, and a
    /// read-modify-write of the stored details across suspension points would lose counts.
    private var usages: [Int64: Usage] = [:]

    /// The account's usage this month: the one held here, else the stored one (after a restart).
    private func currentUsage(_ account: ServiceAccount) -> Usage {
        let month = month()
        if let usage = usages[account.id], usage.month == month { return usage }
        return Usage(account.detailsJSON, month: month)
    }

    func graphCallMade(tenantID: String) async {
        do {
            guard let account = try await meteredAccount(tenantID: tenantID) else { return }
            // No suspension between reading and storing the usage: the actor serializes the increments.
            var usage = currentUsage(account)
            usage.calls += 1
            var warn = false
            if LicensingRules.budgetWarning(used: usage.calls, limit: monthlyCalls), usage.warned != usage.month {
                usage.warned = usage.month
                warn = true
            }
            usages[account.id] = usage
            try await storage.setAccountDetails(id: account.id, detailsJSON: usage.merged(into: account.detailsJSON))
            if warn {
                // After the count is stored: looking the domain up may suspend, and the count must not wait for it.
                let domain = try await storage.tenant(idOrDomain: account.tenantID)?.domain ?? account.tenantID
                let alert = warning(account: account, tenantDomain: domain, usage: usage)
                _ = try await storage.enqueueAlert(alert, channels: alertChannels, at: now())
                logger.warning(
                    "Evaluation API budget nearly used",
                    metadata: [
                        "tenant.id": "\(tenantID)", "account.id": "\(account.id)", "account.service": "\(account.service.rawValue)",
                        "budget.used": "\(usage.calls)", "budget.limit": "\(monthlyCalls)", "budget.month": "\(usage.month)",
                    ]
                )
            }
        } catch {
            // Metering must never fail a sync; the next call counts again.
            logger.warning("Evaluation budget not recorded", metadata: ["tenant.id": "\(tenantID)", "error.type": "\(type(of: error))"])
        }
    }

    func paymentRequired(tenantID: String) async {
        do {
            guard let account = try await meteredAccount(tenantID: tenantID) else { return }
            var usage = currentUsage(account)
            guard usage.exhausted != usage.month else { return }
            usage.exhausted = usage.month
            usages[account.id] = usage
            try await storage.setAccountDetails(id: account.id, detailsJSON: usage.merged(into: account.detailsJSON))
            let domain = try await storage.tenant(idOrDomain: tenantID)?.domain ?? tenantID
            _ = try await storage.enqueueAlert(
                NewAlert(
                    kind: "evaluation-budget-exhausted", severity: .critical, tenantID: tenantID, accountID: account.id,
                    subject: "Teams Chat evaluation budget of \(domain) is used up.",
                    body: "Microsoft refused a Graph call of the Teams Chat service account \(account.id) of \(domain) with 402 Payment Required: "
                        + "the evaluation mode's monthly API allowance is used up (\(usage.calls) calls counted in \(usage.month)), so Teams Chat "
                        + "cannot be protected until next month. Protect it with your own app: \(Self.ownAppCommand(account.id)).",
                    facts: facts(account: account, tenantDomain: domain, usage: usage)
                ),
                channels: alertChannels, at: now()
            )
            logger.error(
                "Evaluation API budget used up",
                metadata: ["tenant.id": "\(tenantID)", "account.id": "\(account.id)", "budget.used": "\(usage.calls)", "budget.month": "\(usage.month)"]
            )
        } catch {
            logger.warning("Evaluation budget not recorded", metadata: ["tenant.id": "\(tenantID)", "error.type": "\(type(of: error))"])
        }
    }

    /// The tenant's evaluation-mode Teams Chat account, when its grant is the one the tenant's Graph calls use.
    private func meteredAccount(tenantID: String) async throws -> ServiceAccount? {
        let grantID = try await tokens.graphGrant(tenantID: tenantID)
        for account in try await storage.accounts() where account.tenantID == tenantID {
            guard account.service == .teamsChat, account.licensingModel == .evaluation else { continue }
            if try await storage.grants(accountID: account.id).contains(where: { $0.id == grantID }) { return account }
        }
        return nil
    }

    private func warning(account: ServiceAccount, tenantDomain: String, usage: Usage) -> NewAlert {
        NewAlert(
            kind: "evaluation-budget-low", severity: .warning, tenantID: account.tenantID, accountID: account.id,
            subject: "Teams Chat evaluation budget of \(tenantDomain) is \(usage.calls * 100 / max(monthlyCalls, 1))% used.",
            body: "The Teams Chat service account \(account.id) of \(tenantDomain) runs in evaluation mode: \(usage.calls) of its \(monthlyCalls) "
                + "monthly Graph calls are used in \(usage.month). Past the budget Microsoft refuses calls (402 Payment Required) and Teams Chat "
                + "protection stops until next month. To keep it, protect Teams Chat with your own app: \(Self.ownAppCommand(account.id)).",
            facts: facts(account: account, tenantDomain: tenantDomain, usage: usage)
        )
    }

    /// The command that moves the account to the customer's own app, out of evaluation mode.
    static func ownAppCommand(_ accountID: Int64) -> String {
        "tenantsyncctl renew \(accountID) --app-id ID --secret-file FILE --licensing-model A|B"
    }

    private func facts(account: ServiceAccount, tenantDomain: String, usage: Usage) -> AlertFacts {
        var facts = AlertFacts.account(tenantID: account.tenantID, tenantDomain: tenantDomain, service: account.service, accountID: account.id)
        facts.budgetUsed = usage.calls
        facts.budgetLimit = monthlyCalls
        facts.budgetMonth = usage.month
        facts.command = Self.ownAppCommand(account.id)
        return facts
    }

    private func month() -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month], from: now())
        return String(format: "%04d-%02d", parts.year ?? 0, parts.month ?? 0)
    }

    /// The budget state kept in the account's details; a new month starts from zero.
    struct Usage {
        var month: String
        var calls: Int
        var warned: String?
        var exhausted: String?

        init(_ detailsJSON: String, month: String) {
            let details = (try? JSONSerialization.jsonObject(with: Data(detailsJSON.utf8))) as? [String: Any] ?? [:]
            self.month = month
            let sameMonth = details["evaluation.month"] as? String == month
            self.calls = sameMonth ? Int(details["evaluation.calls"] as? String ?? "") ?? 0 : 0
            self.warned = details["evaluation.warnedMonth"] as? String
            self.exhausted = details["evaluation.exhaustedMonth"] as? String
        }

        func merged(into detailsJSON: String) throws -> String {
            var details = (try? JSONSerialization.jsonObject(with: Data(detailsJSON.utf8))) as? [String: Any] ?? [:]
            details["evaluation.month"] = month
            details["evaluation.calls"] = "\(calls)"
            if let warned { details["evaluation.warnedMonth"] = warned }
            if let exhausted { details["evaluation.exhaustedMonth"] = exhausted }
            let data = try JSONSerialization.data(withJSONObject: details, options: [.sortedKeys])
            return String(decoding: data, as: UTF8.self)
        }
    }
}
