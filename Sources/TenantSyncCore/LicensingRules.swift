/// The Teams Chat licensing rules (model B never blocks; evaluation mode has a monthly API budget), as pure checks.
public enum LicensingRules {
    /// Refuses a blocking action (block a message or file) under licensing model B.
    ///
    /// Model B pays per API call and supports scanning and passing only;
    /// models A and evaluation may block.
    public static func checkBlockingAllowed(_ model: LicensingModel?, service: ServiceKind = .teamsChat) throws(TenantSyncError) {
        guard let model, !model.allowsBlocking else { return }
        throw TenantSyncError(
            .invalidArgument,
            "\(service.displayName) uses licensing model B, which supports scanning and passing only: blocking a message or file is refused. "
                + "Switch to model A (tenantsyncctl renew ID --licensing-model A with your own app) to block.",
            context: ["account.service": service.rawValue, "licensing.model": model.rawValue]
        )
    }

    /// Whether an evaluation budget is close to running out (at or above 80 % used).
    public static func budgetWarning(used: Int, limit: Int) -> Bool {
        limit > 0 && used * 5 >= limit * 4
    }
}
