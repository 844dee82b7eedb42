import ControlPlane
import Foundation
import GRDB
import M365Emulator
import Testing
import TestSupport

/// "An operator can see what is protected", against the real daemon, `tenantsyncctl` and the emulator:
/// `directory`, `directory --user` and `sync --full`.
@Suite("What is protected: directory, user query, full sync", .serialized)
struct DirectoryProtectionTests {
    static func ctl(_ h: ProvisioningHarness, _ arguments: [String]) async throws -> ProvisioningHarness.Run {
        try await h.ctl(arguments)
    }

    static func object(_ run: ProvisioningHarness.Run) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "not a JSON object: \(run.all)")
    }

    /// The Graph list reads of a full run in the emulator's request log: `/users` and `/groups` themselves, not their delta.
    static func fullListRequests(_ h: ProvisioningHarness) -> [RequestLogEntry] {
        h.emulator.requestLog(tenant: h.tenant.id).filter {
            // A full read lists `/users`; a delta run reads `/users/delta`. (Groups go through `/groups/delta` in
            // both: a full read starts a new round, which the request log cannot tell from a delta by path.)
            $0.kind == "graph" && $0.method == "GET" && $0.path.hasSuffix("/v1.0/users")
        }
    }

    @Test("directory counts what the emulator holds; --user answers protected / not protected; --full re-reads and is guarded")
    func allScope() async throws {
        try await ProvisioningHarness.with { h in
            let t = h.tenant.id
            let domain = h.tenant.domain
            let users = try h.emulator.users(tenant: t)
            let (alice, bob) = (users[0], users[1])
            // Alice is in `inner` directly and in `outer` through `inner`.
            let inner = try h.emulator.createGroup(tenant: t, GroupDraft(displayName: "Protection inner"))
            let outer = try h.emulator.createGroup(tenant: t, GroupDraft(displayName: "Protection outer"))
            try h.emulator.addMember(tenant: t, group: inner.id, member: alice.id)
            try h.emulator.addMember(tenant: t, group: outer.id, member: inner.id)

            // Nothing synced yet: the tenant is unknown.
            let unknown = try await Self.ctl(h, ["directory", "--tenant", domain])
            #expect(unknown.status == 65 && unknown.stderr.contains("TenantNotFound"), "\(unknown.all)")

            let provisioned = try await h.provision("exchange-online", ["--scope", "all"], approvals: [true, true])
            try #require(provisioned.status == 0, "\(provisioned.all)")

            // Counts match the emulator's directory; the provisioning run is the last full, no delta yet.
            let groups = try h.emulator.groups(tenant: t).filter { $0.state == .active }
            let active = users.filter { $0.state == .active }
            let summary = try Self.object(try await Self.ctl(h, ["--json", "directory", "--tenant", domain]))
            #expect(summary["users"] as? Int == active.count, "\(summary)")
            #expect(summary["groups"] as? Int == groups.count, "\(summary)")
            #expect(summary["memberships"] as? Int == groups.reduce(0) { $0 + $1.memberCount }, "\(summary)")
            #expect(summary["scope"] as? String == "all" && summary["tenant_id"] as? String == t)
            let provisionRun = try #require(summary["last_full"] as? [String: Any], "\(summary)")
            #expect(provisionRun["mode"] as? String == "full" && provisionRun["trigger"] as? String == "provision" && provisionRun["state"] as? String == "succeeded")
            #expect(summary["last_delta"] == nil, "no delta run yet: \(summary)")
            let links = try #require(summary["delta_links"] as? [[String: Any]])
            #expect(links.map { $0["resource"] as? String } == ["groups", "users"] && links.allSatisfy { ($0["age_seconds"] as? Int ?? -1) >= 0 }, "\(links)")
            let services = try #require(summary["services"] as? [[String: Any]])
            #expect(services.map { $0["service"] as? String } == ["exchange-online"] && services.first?["state"] as? String == "active")

            let table = try await Self.ctl(h, ["directory", "--tenant", domain])
            #expect(table.status == 0, "\(table.all)")
            let disabled = active.filter { !$0.accountEnabled }.count
            #expect(summary["disabled_users"] as? Int == disabled, "\(summary)")
            let usersLine = "Users:       \(active.count)" + (disabled > 0 ? " (\(disabled) disabled)" : "")
            #expect(table.stdout.contains(usersLine + "\n") && table.stdout.contains("Groups:      \(groups.count)\n"), "\(table.stdout)")
            #expect(table.stdout.contains("Scope:       all (every user of the directory)"), "\(table.stdout)")
            #expect(table.stdout.contains("  full  ") && table.stdout.contains("provision") && table.stdout.contains("  delta  -    never"), "\(table.stdout)")

            // Alice is protected through scope all since the provisioning sync, in both groups; the name is case-insensitive.
            let asked = try await Self.ctl(h, ["--json", "directory", "--tenant", domain, "--user", alice.userPrincipalName.uppercased()])
            #expect(asked.status == 0, "\(asked.all)")
            let answer = try Self.object(asked)
            #expect(answer["protected"] as? Bool == true && answer["reason"] == nil, "\(answer)")
            #expect(answer["via"] as? String == "all" && answer["user_principal_name"] as? String == alice.userPrincipalName, "\(answer)")
            #expect(answer["user_id"] as? String == alice.id && answer["services"] as? [String] == ["exchange-online"])
            let since = answer["since"] as? String ?? ""
            #expect(!since.isEmpty && since >= (provisionRun["started_at"] as? String ?? "~"), "first synced by the provisioning run: \(answer)")
            let memberOf = try #require(answer["groups"] as? [[String: Any]])
            let direct = Dictionary(uniqueKeysWithValues: memberOf.compactMap { g in (g["id"] as? String).map { ($0, g["direct"] as? Bool) } })
            #expect(direct[inner.id] == true && direct[outer.id] == false, "inner direct, outer nested: \(memberOf)")
            #expect(answer["groups_total"] as? Int == memberOf.count && answer["groups_next"] == nil)

            // Paged: one group per reply, the next page after it.
            let first = try Self.object(try await Self.ctl(h, ["--json", "directory", "--tenant", domain, "--user", alice.userPrincipalName, "--groups-limit", "1"]))
            let firstPage = try #require(first["groups"] as? [[String: Any]])
            let next = try #require(first["groups_next"] as? String, "a full page names the next: \(first)")
            #expect(firstPage.count == 1 && first["groups_total"] as? Int == memberOf.count)
            let second = try Self.object(try await Self.ctl(h, ["--json", "directory", "--tenant", domain, "--user", alice.userPrincipalName, "--groups-limit", "1", "--groups-after", next]))
            let secondPage = try #require(second["groups"] as? [[String: Any]])
            #expect(secondPage.count == 1 && secondPage.first?["id"] as? String != next && (secondPage.first?["id"] as? String ?? "") > next, "\(second)")

            let human = try await Self.ctl(h, ["directory", "--tenant", domain, "--user", alice.userPrincipalName])
            #expect(human.status == 0 && human.stdout.hasPrefix("\(alice.userPrincipalName): protected\n"), "\(human.all)")
            #expect(human.stdout.contains("Through:") && human.stdout.contains("scope all") && human.stdout.contains("(first synced)"), "\(human.stdout)")
            #expect(human.stdout.contains("Protection inner") && human.stdout.contains("nested"), "\(human.stdout)")

            // Someone the directory never had: not protected, why, and exit 67.
            let nobody = try await Self.ctl(h, ["directory", "--tenant", domain, "--user", "nobody-here@\(domain)"])
            #expect(nobody.status == 67, "\(nobody.all)")
            #expect(nobody.stdout.contains("NOT protected (not-in-directory)") && nobody.stdout.contains("has no such user"), "\(nobody.stdout)")
            let limit = try await Self.ctl(h, ["directory", "--tenant", domain, "--user", alice.userPrincipalName, "--groups-limit", "0"])
            #expect(limit.status == 64, "\(limit.all)")

            let firstSynced = try await DatabaseQueue(path: h.directory + "/state/tenantsync.sqlite").read {
                try String.fetchOne($0, sql: "SELECT first_synced_at FROM directory_users WHERE id = ?", arguments: [alice.id])
            }
            #expect(firstSynced != nil)

            // Bob is deleted in Entra ID; the next (delta) sync takes him out of protection. Alice is renamed:
            // her change is recorded, her "since" stays the first sync.
            try h.emulator.deleteUser(tenant: t, user: bob.id)
            try h.emulator.updateUser(tenant: t, user: alice.id, UserDraft(displayName: "Alice Renamed"))
            #expect(try await Self.ctl(h, ["--json", "directory", "--tenant", domain, "--user", bob.userPrincipalName]).status == 0, "protected until a sync sees it")
            let delta = try await Self.ctl(h, ["sync", "--tenant", domain, "--wait"])
            #expect(delta.status == 0 && delta.stdout.contains("(delta)"), "\(delta.all)")
            let gone = try await Self.ctl(h, ["--json", "directory", "--tenant", domain, "--user", bob.userPrincipalName])
            #expect(gone.status == 67, "\(gone.all)")
            #expect(try Self.object(gone)["reason"] as? String == "not-in-directory", "\(gone.stdout)")
            let renamed = try Self.object(try await Self.ctl(h, ["--json", "directory", "--tenant", domain, "--user", alice.userPrincipalName]))
            #expect(renamed["display_name"] as? String == "Alice Renamed" && renamed["since"] as? String == since, "\(renamed)")
            // The reply has whole seconds; the database's milliseconds tell the two times apart.
            let stored = try await DatabaseQueue(path: h.directory + "/state/tenantsync.sqlite").read {
                try Row.fetchOne($0, sql: "SELECT first_synced_at, synced_at FROM directory_users WHERE id = ?", arguments: [alice.id])
            }
            let (firstAt, changedAt): (String?, String?) = (stored?["first_synced_at"], stored?["synced_at"])
            #expect(firstAt == firstSynced && (changedAt ?? "") > (firstAt ?? "~"), "the rename moved the last change, not the first sync: \(String(describing: stored))")
            let afterDelta = try Self.object(try await Self.ctl(h, ["--json", "directory", "--tenant", domain]))
            #expect(afterDelta["users"] as? Int == active.count - 1, "\(afterDelta)")
            #expect((afterDelta["last_delta"] as? [String: Any])?["state"] as? String == "succeeded", "\(afterDelta)")

            // --full after a delta reads every user and group again (the emulator saw the list requests),
            // its run's mode is full, and tenantsyncctl says so.
            h.emulator.clearRequestLog()
            let full = try await Self.ctl(h, ["sync", "--tenant", domain, "--full", "--wait"])
            #expect(full.status == 0, "\(full.all)")
            #expect(full.stdout.split(separator: "\n").last?.hasSuffix("(full)") == true, "\(full.stdout)")
            let reads = Self.fullListRequests(h)
            #expect(!reads.isEmpty, "the full run listed the users: \(h.emulator.requestLog(tenant: t).map(\.path))")
            #expect(h.emulator.requestLog(tenant: t).contains { $0.path.hasSuffix("/v1.0/groups/delta") }, "the full run read the groups")
            let afterFull = try Self.object(try await Self.ctl(h, ["--json", "directory", "--tenant", domain]))
            let fullRun = try #require(afterFull["last_full"] as? [String: Any])
            #expect(fullRun["mode"] as? String == "full" && fullRun["trigger"] as? String == "manual" && fullRun["state"] as? String == "succeeded", "\(fullRun)")
            #expect((fullRun["id"] as? Int ?? 0) > (provisionRun["id"] as? Int ?? .max))
            #expect(afterFull["users"] as? Int == active.count - 1)
            let account = try #require(try await h.account("exchange-online"))
            #expect(try await h.detail(account.id).lastSync?.mode == .full)

            // A plain sync after it is a delta again: no list reads (the check above can tell the two apart).
            h.emulator.clearRequestLog()
            let plain = try await Self.ctl(h, ["sync", "--tenant", domain, "--wait"])
            #expect(plain.status == 0 && plain.stdout.contains("(delta)"), "\(plain.all)")
            #expect(Self.fullListRequests(h).isEmpty, "\(h.emulator.requestLog(tenant: t).map(\.path))")

            // A full run that would remove more than the threshold (8 of 29 users, 28%) is held like any run.
            let doomed = users.filter { $0.id != alice.id && $0.id != bob.id }.prefix(8)
            for user in doomed { try h.emulator.deleteUser(tenant: t, user: user.id) }
            let held = try await Self.ctl(h, ["sync", "--tenant", domain, "--full", "--wait"])
            #expect(held.status == 75 && held.all.contains("held"), "\(held.all)")
            let heldRun = try #require(try await h.withClient { try await $0.status() }.heldSyncs?.first)
            #expect(heldRun.mode == .full && heldRun.state == .held, "\(heldRun)")
            let victim = try Self.object(try await Self.ctl(h, ["--json", "directory", "--tenant", domain, "--user", doomed.first!.userPrincipalName]))
            #expect(victim["protected"] as? Bool == true, "still protected while the removal is held: \(victim)")
            #expect(victim["pending_removal_run"] as? Int == Int(heldRun.id), "\(victim)")
            #expect((try Self.object(try await Self.ctl(h, ["--json", "directory", "--tenant", domain])))["users"] as? Int == active.count - 1)
        }
    }

    @Test("a selected scope: targets are protected, others are not, and no full sync can be asked for")
    func selectedScope() async throws {
        try await ProvisioningHarness.with { h in
            let domain = h.tenant.domain
            let users = try h.emulator.users(tenant: h.tenant.id, limit: 3)
            let (chosen, other) = (users[0], users[1])
            let provisioned = try await h.provision("exchange-online", ["--scope", "selected", "--user", chosen.userPrincipalName], approvals: [true, true])
            try #require(provisioned.status == 0, "\(provisioned.all)")

            let summary = try Self.object(try await Self.ctl(h, ["--json", "directory", "--tenant", domain]))
            #expect(summary["scope"] as? String == "selected" && summary["selected_targets"] as? Int == 1, "\(summary)")

            let yes = try await Self.ctl(h, ["--json", "directory", "--tenant", domain, "--user", chosen.userPrincipalName])
            #expect(yes.status == 0, "\(yes.all)")
            let answer = try Self.object(yes)
            #expect(answer["protected"] as? Bool == true && answer["via"] as? String == "upn" && answer["since"] is String, "\(answer)")

            let no = try await Self.ctl(h, ["directory", "--tenant", domain, "--user", other.userPrincipalName])
            #expect(no.status == 67 && no.stdout.contains("NOT protected (not-selected)"), "\(no.all)")
            #expect(no.stdout.contains("tenantsyncctl targets --tenant \(domain) add --user"), "says how to protect the user: \(no.stdout)")

            let full = try await Self.ctl(h, ["sync", "--tenant", domain, "--full"])
            #expect(full.status == 65 && full.stderr.contains("SyncNotAllowedForSelectedScope"), "\(full.all)")
        }
    }
}
