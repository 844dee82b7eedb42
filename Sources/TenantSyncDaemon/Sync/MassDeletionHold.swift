import Foundation
import TenantSyncCore

/// A sync run held by the mass-deletion guard, in the words an operator reads.
struct MassDeletionHold: Sendable, Equatable {
    /// The alert kind; also the name of the journal catalog entry.
    static let alertKind = "mass-deletion-held"

    var runID: Int64
    var tenantID: String
    var removedUsers: Int
    var removedGroups: Int
    var usersBefore: Int
    /// The configured share (0…1) above which a run is held.
    var threshold: Double

    /// The share (0…1) of the tenant's users the run would remove.
    var share: Double { usersBefore > 0 ? Double(removedUsers) / Double(usersBefore) : 0 }

    func percent(_ value: Double) -> String {
        String(format: "%.1f%%", value * 100)
    }

    /// The commands that settle the hold.
    static func confirmCommand(tenant: String) -> String { "tenantsyncctl sync --tenant \(tenant) --confirm-held" }
    static func discardCommand(tenant: String) -> String { "tenantsyncctl sync --tenant \(tenant) --discard-held" }

    var note: String {
        "held: would remove \(removedUsers) of \(usersBefore) users (\(percent(share)), more than \(percent(threshold)))"
            + " and \(removedGroups) groups; confirm or discard"
    }

    func alert(tenantDomain: String?) -> NewAlert {
        let tenant = tenantDomain ?? tenantID
        let body = """
            Directory sync run \(runID) of \(tenant) would remove \(removedUsers) of its \(usersBefore) protected users \
            (\(percent(share))) and \(removedGroups) groups. That is more than the mass-deletion threshold of \(percent(threshold)), \
            so nothing was removed: the run is held until an operator decides. Until then the removed users stay protected \
            and later syncs keep holding. Check the tenant's directory in Microsoft Entra ID. If the removals are real, apply \
            them with '\(Self.confirmCommand(tenant: tenant))'. If the directory read was wrong, drop them with \
            '\(Self.discardCommand(tenant: tenant))' (the next sync reads the directory again and holds again if the users \
            are still gone).
            """
        let facts = AlertFacts(
            tenantID: tenantID, tenantDomain: tenantDomain, syncRun: runID, usersBefore: usersBefore, removedUsers: removedUsers,
            removedGroups: removedGroups, removedShare: percent(share), threshold: percent(threshold),
            confirmCommand: Self.confirmCommand(tenant: tenant), discardCommand: Self.discardCommand(tenant: tenant)
        )
        return NewAlert(
            kind: Self.alertKind, severity: .warning, tenantID: tenantID,
            subject: "Directory sync of \(tenant) held: it would remove \(removedUsers) of \(usersBefore) users.",
            body: body, facts: facts
        )
    }
}
