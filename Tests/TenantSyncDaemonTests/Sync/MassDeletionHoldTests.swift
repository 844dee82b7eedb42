import ControlPlane
import Foundation
import GRDB
import M365Emulator
import Testing
import TestSupport

/// a sync that would remove more than 20% of a tenant's users is held, raises an alert,
/// and is applied or dropped only by an operator, through the real daemon and `tenantsyncctl`.
@Suite("Mass-deletion hold", .serialized)
struct MassDeletionHoldTests {
    /// Provisions Exchange Online (scope all, so its first full sync runs), then deletes 8 of the 30 users (27%).
    private func provisionAndDelete(_ h: ProvisioningHarness) async throws -> (all: Int, deleted: Set<String>) {
        let provisioned = try await h.provision("exchange-online", ["--scope", "all"], approvals: [true, true])
        try #require(provisioned.status == 0, "\(provisioned.all)")
        let users = try h.emulator.users(tenant: h.tenant.id)
        let doomed = users.prefix(8).map(\.id)
        for id in doomed { try h.emulator.deleteUser(tenant: h.tenant.id, user: id) }
        let stored = try directoryUserIDs(h)
        try #require(stored.count == users.count, "the provisioning sync stored every user (\(stored.count) of \(users.count))")
        return (users.count, Set(doomed))
    }

    private func directoryUserIDs(_ h: ProvisioningHarness) throws -> Set<String> {
        let queue = try DatabaseQueue(path: h.directory + "/state/tenantsync.sqlite")
        return Set(try queue.read { try String.fetchAll($0, sql: "SELECT id FROM directory_users") })
    }

    /// Runs `sync --wait`, which ends held (exit 75) and returns the held run as the daemon reports it.
    private func syncAndExpectHold(_ h: ProvisioningHarness) async throws -> SyncRunInfo {
        let run = try await h.ctl(["sync", "--tenant", h.tenant.domain, "--wait"])
        #expect(run.status == 75, "a held run is not a success for scripts: \(run.all)")
        #expect(run.all.contains("held"), "\(run.all)")
        let status = try await h.withClient { try await $0.status() }
        let held = try #require(status.heldSyncs?.first, "status lists the held run: \(status)")
        #expect(status.heldSyncs?.count == 1, "one held run per tenant")
        #expect(held.state == .held && held.usersRemoved == 0)
        #expect(held.note?.contains("would remove 8 of 30 users") == true, "\(held.note ?? "no note")")
        return held
    }

    @Test func heldRunRaisesAnAlertLeavesTheDirectoryAndIsAppliedOnConfirm() async throws {
        try await ProvisioningHarness.with { h in
            let (all, deleted) = try await provisionAndDelete(h)
            let held = try await syncAndExpectHold(h)

            // The directory is untouched: the 8 deleted users are still protected.
            #expect(try directoryUserIDs(h).count == all)

            // The alert went to the outbox, with the share, the threshold, the run and both commands.
            let alert = try #require(try await h.alerts().first { $0.kind == "mass-deletion-held" }, "no mass-deletion-held alert")
            #expect(alert.severity == .warning)
            #expect(alert.tenantID == h.tenant.id)
            #expect(alert.body.contains("run \(held.id)") && alert.body.contains("26.7%") && alert.body.contains("20.0%"), "\(alert.body)")
            #expect(alert.body.contains("tenantsyncctl sync --tenant \(h.tenant.domain) --confirm-held"), "\(alert.body)")
            #expect(alert.body.contains("tenantsyncctl sync --tenant \(h.tenant.domain) --discard-held"), "\(alert.body)")
            #expect(alert.deliveries.map(\.channel).contains("hook:record"))
            let delivered = try await eventually(timeout: .seconds(10), "hook delivery") {
                ((try? String(contentsOfFile: h.directory + "/alerts.jsonl", encoding: .utf8)) ?? "").contains("mass-deletion-held")
            }
            #expect(delivered, "the mass-deletion-held alert never reached the hook")

            // `account` shows the held run and how to settle it.
            let account = try #require(try await h.account("exchange-online"))
            let shown = try await h.ctl(["account", "\(account.id)"])
            #expect(shown.stdout.contains("Held sync") && shown.stdout.contains("--confirm-held"), "\(shown.all)")
            #expect(try await h.detail(account.id).heldSync?.id == held.id)

            // A second sync while held holds again, superseding the first hold.
            let again = try await syncAndExpectHold(h)
            #expect(again.id != held.id)

            // Confirm: the removals are applied in one go, the run succeeds with them counted.
            let confirmed = try await h.ctl(["sync", "--tenant", h.tenant.domain, "--confirm-held"])
            #expect(confirmed.status == 0, "\(confirmed.all)")
            #expect(confirmed.stdout.contains("Held sync run \(again.id) confirmed: removed 8 users"), "\(confirmed.all)")
            let remaining = try directoryUserIDs(h)
            #expect(remaining.count == all - 8 && remaining.isDisjoint(with: deleted))
            let run = try #require(try await h.withClient { try await $0.account(id: account.id) }.lastSync)
            #expect(run.id == again.id && run.state == .succeeded && run.usersRemoved == 8, "\(run)")
            #expect(try await h.withClient { try await $0.status() }.heldSyncs?.isEmpty == true)

            // Nothing is left to confirm; the next sync is an ordinary delta with nothing to remove.
            let nothing = try await h.ctl(["sync", "--tenant", h.tenant.domain, "--confirm-held"])
            #expect(nothing.status == 65 && nothing.all.contains("No sync run of the tenant is held"), "\(nothing.all)")
            let next = try await h.ctl(["sync", "--tenant", h.tenant.domain, "--wait"])
            #expect(next.status == 0 && next.stdout.contains("succeeded"), "\(next.all)")
        }
    }

    @Test func discardRemovesNothingAndTheNextSyncHoldsAgain() async throws {
        try await ProvisioningHarness.with { h in
            let (all, _) = try await provisionAndDelete(h)
            let held = try await syncAndExpectHold(h)

            let discarded = try await h.ctl(["--json", "sync", "--tenant", h.tenant.domain, "--discard-held"])
            #expect(discarded.status == 0, "\(discarded.all)")
            let run = try #require(try JSONSerialization.jsonObject(with: Data(discarded.stdout.utf8)) as? [String: Any], "\(discarded.stdout)")
            #expect((run["id"] as? NSNumber)?.int64Value == held.id, "\(run)")
            #expect(run["state"] as? String == "failed" && (run["users_removed"] as? NSNumber)?.intValue == 0, "\(run)")
            #expect(try directoryUserIDs(h).count == all, "discard removes nothing")
            #expect(try await h.withClient { try await $0.status() }.heldSyncs?.isEmpty == true)

            // Discarding is "not now", not "never": the users are still gone, so the next sync is held again.
            let again = try await syncAndExpectHold(h)
            #expect(again.id > held.id)
            #expect(try directoryUserIDs(h).count == all)
        }
    }
}
