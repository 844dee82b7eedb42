import ControlPlane
import Foundation
import M365Emulator
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Against the real daemon: a third-party Varlink client and every `tenantsyncctl`
/// subcommand, with tenantsyncd serving the in-process Microsoft 365 emulator.
///
/// `provision` itself (every service, every flow) is proven by ``ProvisioningTests``; here it
/// only sets up the Exchange Online account the other calls work on.
@Suite("Control socket of the real daemon", .serialized)
struct ControlSocketDaemonTests {
    /// Provisions Exchange Online on a selected scope holding `user`; returns the account id.
    static func provisionSelected(_ h: ProvisioningHarness, user: String) async throws -> Int64 {
        let run = try await h.provision("exchange-online", ["--scope", "selected", "--user", user], approvals: [true, true])
        try #require(run.status == 0, "provisioning failed: \(run.all)")
        return try #require(try await h.account("exchange-online")).id
    }

    /// Runs `tenantsyncctl --socket SOCKET ARGS` as root, with no terminal.
    static func ctl(_ h: ProvisioningHarness, _ arguments: [String]) async throws -> ChildProcess.Result {
        let executable = DaemonProcess.binDirectory.appendingPathComponent("tenantsyncctl").path
        return try await ChildProcess.run(executable, ["--socket", h.socket] + arguments, environment: ["PATH": "/usr/bin:/bin"])
    }

    static func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    @Test("the PyPI varlink client drives the real daemon: introspection, reads, targets, streamed extend and sync, alerts, reload, errors")
    func thirdPartyClient() async throws {
        let python = try #require(ChildProcess.which("python3"), "python3 is not on PATH")
        let probe = try await ChildProcess.run(python, ["-c", "import varlink"])
        try #require(probe.status == 0, "the PyPI package varlink is missing: python3 -m pip install varlink==31.0.0")
        let script = ChildProcess.fixtures.appendingPathComponent("varlink_daemon_peer.py").path

        try await ProvisioningHarness.with { h in
            let users = try h.emulator.users(tenant: h.tenant.id, limit: 3)
            let (first, second) = (users[0].userPrincipalName, users[1].userPrincipalName)
            let group = try #require(try h.emulator.groups(tenant: h.tenant.id).first)
            let prefix = String(group.displayName.prefix(4))
            let id = try await Self.provisionSelected(h, user: first)

            let run = try await ChildProcess.run(python, [script, h.socket, h.tenant.domain, String(id), second, prefix])
            #expect(run.status == 0, "python client failed: \(run.stderr)")
            let seen = try #require(try Self.json(run.stdout) as? [String: Any], "output: \(run.stdout) \(run.stderr)")

            #expect(seen["interfaces"] as? [String] == ["org.varlink.service", "io.tenantsync.Control"])
            #expect(seen["product"] as? String == "tenantsyncd")
            let members = try #require(seen["parsed_members"] as? [String])
            for name in ["Status", "ListAccounts", "GetAccount", "Sync", "Extend", "ListTargets", "AddTargets", "RemoveTargets", "SearchGroups", "ListAlerts", "AcknowledgeAlert", "Reload", "GetDirectory", "GetDirectoryUser", "DirectoryInfo", "DirectoryUser", "ListNodes", "Node", "AccountNotFound", "SyncNotAllowedForSelectedScope", "GroupPrefixTooShort"] {
                #expect(members.contains(name), "the IDL served by the daemon, parsed by the Python library, lacks \(name)")
            }
            #expect(seen["status_total"] as? Int == 1 && seen["status_active"] as? Int == 1, "\(seen)")
            let accounts = try #require(seen["accounts"] as? [[Any]])
            #expect(accounts.count == 1)
            #expect(accounts.first?[0] as? Int == Int(id) && accounts.first?[1] as? String == "exchange-online", "\(accounts)")
            #expect(accounts.first?[2] as? String == "active" && accounts.first?[3] as? String == "selected", "\(accounts)")
            let grants = try #require(seen["account_grants"] as? [[Any]])
            #expect(grants.map { $0[0] as? String } == ["ews", "graph"])
            #expect(grants.allSatisfy { $0[1] as? String == "valid" && $0[2] as? Bool == true }, "\(grants)")
            #expect(seen["account_tenant"] as? String == h.tenant.domain)

            #expect(seen["targets_scope"] as? String == "selected")
            #expect(seen["targets_before"] as? [String] == [first.lowercased()])
            let groups = try #require(seen["groups"] as? [String])
            #expect(groups.contains(group.displayName) && groups.allSatisfy { $0.hasPrefix(prefix) }, "search for \(prefix): \(groups)")
            #expect(seen["added"] as? [String] == [second.lowercased()] && seen["added_total"] as? Int == 2, "\(seen)")
            #expect(seen["removed"] as? [String] == [second.lowercased()] && seen["removed_total"] as? Int == 1, "\(seen)")

            let refused = try #require(seen["sync_selected"] as? [String: Any])
            #expect(refused["error"] as? String == "io.tenantsync.Control.SyncNotAllowedForSelectedScope")
            #expect((refused["parameters"] as? [String: Any])?["tenant_id"] as? String == h.tenant.id, "\(refused)")

            #expect(seen["extend_switched"] as? [String] == ["exchange-online"])
            let extendDone = try #require(seen["extend_done"] as? [Bool])
            #expect(extendDone.last == true && extendDone.dropLast().allSatisfy { !$0 }, "only the last reply ends the stream: \(extendDone)")
            #expect(seen["extend_last"] as? String == "extend/succeeded")

            let syncDone = try #require(seen["sync_done"] as? [Bool])
            #expect(syncDone.count >= 2, "a streamed sync sends progress before its end: \(syncDone)")
            #expect(syncDone.last == true && syncDone.dropLast().allSatisfy { !$0 }, "\(syncDone)")
            #expect((seen["sync_run_ids"] as? [Int])?.count == 1, "one run, followed to its end: \(seen["sync_run_ids"] ?? "nil")")
            #expect(seen["sync_last"] as? String == "manual/succeeded")

            #expect((seen["alert_kinds"] as? [String])?.contains("account-protected") == true, "\(seen["alert_kinds"] ?? "nil")")
            #expect(seen["acknowledged"] as? [Bool] == [true, true])
            #expect(seen["still_unacknowledged"] as? Bool == false)
            #expect(seen["reload"] is [String])

            let notFound = try #require(seen["not_found"] as? [String: Any])
            #expect(notFound["error"] as? String == "io.tenantsync.Control.AccountNotFound")
            #expect((notFound["parameters"] as? [String: Any])?["id"] as? Int == 987654, "\(notFound)")
            #expect(((notFound["parameters"] as? [String: Any])?["message"] as? String)?.isEmpty == false)
            let short = try #require(seen["short_prefix"] as? [String: Any])
            #expect(short["error"] as? String == "io.tenantsync.Control.GroupPrefixTooShort")
            #expect((short["parameters"] as? [String: Any])?["prefix"] as? String == "ab")
            #expect((short["parameters"] as? [String: Any])?["minimum"] as? Int == 3, "\(short)")

            // The daemon kept every change the client made: the tenant is on all targets now.
            #expect(try await h.account("exchange-online")?.scope == .all)
        }
    }

    @Test("every tenantsyncctl subcommand against the real daemon: tables, --json, progress lines and sysexits codes")
    func everySubcommand() async throws {
        try await ProvisioningHarness.with { h in
            let domain = h.tenant.domain
            let users = try h.emulator.users(tenant: h.tenant.id, limit: 3)
            let (first, second) = (users[0].userPrincipalName, users[1].userPrincipalName)
            let group = try #require(try h.emulator.groups(tenant: h.tenant.id).first)

            // status before any account.
            let empty = try await Self.ctl(h, ["status"])
            #expect(empty.status == 0, "\(empty.all)")
            #expect(empty.stdout.contains("tenantsyncd ") && empty.stdout.contains("Accounts: 0 (0 active"), "\(empty.stdout)")

            let id = try await Self.provisionSelected(h, user: first)

            let status = try await Self.ctl(h, ["status"])
            #expect(status.stdout.contains("Accounts: 1 (1 active, 0 provisioning, 0 token-invalid)"), "\(status.stdout)")
            #expect(status.stdout.contains("Degraded: none"))
            let statusJSON = try #require(try Self.json(try await Self.ctl(h, ["--json", "status"]).stdout) as? [String: Any])
            #expect((statusJSON["accounts"] as? [String: Any])?["active"] as? Int == 1, "\(statusJSON)")
            #expect(statusJSON["cluster"] == nil && !status.stdout.contains("Nodes:"), "SQLite: one daemon, no cluster in status: \(statusJSON)")

            // nodes: on SQLite this daemon alone, answering, with no leases.
            let nodes = try await Self.ctl(h, ["nodes"])
            #expect(nodes.status == 0, "\(nodes.all)")
            let nodeRows = nodes.stdout.split(separator: "\n").map(String.init)
            #expect(nodeRows.count == 3 && nodeRows[1].contains(" * ") && nodeRows[1].contains(" alive ") && nodeRows[1].hasSuffix("-"), "\(nodes.stdout)")
            let nodesJSON = try #require((try Self.json(try await Self.ctl(h, ["--json", "nodes"]).stdout) as? [String: Any])?["nodes"] as? [[String: Any]])
            #expect(nodesJSON.count == 1 && nodesJSON.first?["answering"] as? Bool == true && nodesJSON.first?["alive"] as? Bool == true, "\(nodesJSON)")
            #expect(nodesJSON.first?["version"] as? String == statusJSON["version"] as? String && nodesJSON.first?["started_at"] as? String == statusJSON["started_at"] as? String, "\(nodesJSON)")
            #expect((nodesJSON.first?["leases"] as? [Any])?.isEmpty == true && (nodesJSON.first?["name"] as? String)?.isEmpty == false, "\(nodesJSON)")

            // accounts and account.
            let accounts = try await Self.ctl(h, ["accounts"])
            #expect(accounts.status == 0, "\(accounts.all)")
            let rows = accounts.stdout.split(separator: "\n")
            #expect(rows.first?.hasPrefix("ID  TENANT") == true && rows.count == 2, "\(accounts.stdout)")
            #expect(rows.last?.contains("\(id)") == true && rows.last?.contains("exchange-online") == true && rows.last?.contains("selected") == true)
            let accountsJSON = try #require((try Self.json(try await Self.ctl(h, ["--json", "accounts", "--tenant", domain]).stdout) as? [String: Any])?["accounts"] as? [[String: Any]])
            #expect(accountsJSON.map { $0["id"] as? Int } == [Int(id)])
            let unknownTenant = try await Self.ctl(h, ["accounts", "--tenant", "nowhere.example"])
            #expect(unknownTenant.status == 65 && unknownTenant.stderr.contains("TenantNotFound"), "\(unknownTenant.all)")

            // accounts filtered in the daemon's store: by state, by service; a bad value is InvalidArgument (65).
            let tokenInvalid = try #require(try Self.json(try await Self.ctl(h, ["--json", "accounts", "--state", "token-invalid"]).stdout) as? [String: Any])
            #expect((tokenInvalid["accounts"] as? [Any])?.isEmpty == true && tokenInvalid["next"] == nil, "\(tokenInvalid)")
            let active = try #require(try Self.json(try await Self.ctl(h, ["--json", "accounts", "--state", "active", "--service", "exchange-online", "--limit", "1"]).stdout) as? [String: Any])
            #expect((active["accounts"] as? [[String: Any]])?.map { $0["id"] as? Int } == [Int(id)], "\(active)")
            let otherService = try #require(try Self.json(try await Self.ctl(h, ["--json", "accounts", "--service", "teams-chat"]).stdout) as? [String: Any])
            #expect((otherService["accounts"] as? [Any])?.isEmpty == true, "\(otherService)")
            let afterLast = try #require(try Self.json(try await Self.ctl(h, ["--json", "accounts", "--after", "\(id)"]).stdout) as? [String: Any])
            #expect((afterLast["accounts"] as? [Any])?.isEmpty == true, "nothing after the last account: \(afterLast)")
            let badState = try await Self.ctl(h, ["accounts", "--state", "broken"])
            #expect(badState.status == 65 && badState.stderr.contains("InvalidArgument") && badState.stderr.contains("token-invalid"), "\(badState.all)")
            let badAccountService = try await Self.ctl(h, ["accounts", "--service", "fax"])
            #expect(badAccountService.status == 65 && badAccountService.stderr.contains("InvalidArgument"), "\(badAccountService.all)")
            let badCursor = try await Self.ctl(h, ["accounts", "--after", "yesterday"])
            #expect(badCursor.status == 65 && badCursor.stderr.contains("InvalidArgument"), "\(badCursor.all)")
            let badLimit = try await Self.ctl(h, ["accounts", "--limit", "0"])
            #expect(badLimit.status == 65 && badLimit.stderr.contains("InvalidArgument"), "\(badLimit.all)")

            let account = try await Self.ctl(h, ["account", "\(id)"])
            #expect(account.status == 0, "\(account.all)")
            #expect(account.stdout.contains("Service:") && account.stdout.contains("Exchange Online (exchange-online)"), "\(account.stdout)")
            #expect(account.stdout.contains("Grants:") && account.stdout.contains("ews") && account.stdout.contains("graph"))
            let accountJSON = try #require(try Self.json(try await Self.ctl(h, ["--json", "account", "\(id)"]).stdout) as? [String: Any])
            #expect((accountJSON["grants"] as? [Any])?.count == 2 && accountJSON["state"] as? String == "active", "\(accountJSON)")
            let missing = try await Self.ctl(h, ["account", "987654"])
            #expect(missing.status == 65 && missing.stderr.contains("AccountNotFound"), "\(missing.all)")
            let usage = try await Self.ctl(h, ["account", "not-a-number"])
            #expect(usage.status == 64, "\(usage.all)")

            // targets: list, search-groups, add, remove.
            let targets = try await Self.ctl(h, ["targets", "--tenant", domain])
            #expect(targets.status == 0, "\(targets.all)")
            #expect(targets.stdout.contains("Scope: selected, 1 of at most 100 targets"), "\(targets.stdout)")
            #expect(targets.stdout.lowercased().contains(first.lowercased()))
            let listJSON = try #require(try Self.json(try await Self.ctl(h, ["--json", "targets", "--tenant", domain, "list"]).stdout) as? [String: Any])
            #expect(listJSON["scope"] as? String == "selected" && (listJSON["targets"] as? [Any])?.count == 1, "\(listJSON)")

            let prefix = String(group.displayName.prefix(4))
            let search = try await Self.ctl(h, ["targets", "--tenant", domain, "search-groups", prefix])
            #expect(search.status == 0 && search.stdout.contains(group.displayName), "\(search.all)")
            let searchJSON = try #require(try Self.json(try await Self.ctl(h, ["--json", "targets", "--tenant", domain, "search-groups", prefix]).stdout) as? [[String: Any]])
            #expect(searchJSON.contains { $0["id"] as? String == group.id }, "\(searchJSON)")
            let short = try await Self.ctl(h, ["targets", "--tenant", domain, "search-groups", "ab"])
            #expect(short.status == 65 && short.stderr.contains("GroupPrefixTooShort"), "\(short.all)")

            let add = try await Self.ctl(h, ["targets", "--tenant", domain, "add", "--user", second])
            #expect(add.status == 0 && add.stdout.contains("Added 1 target(s); 2 in total."), "\(add.all)")
            let unknownUser = try await Self.ctl(h, ["targets", "--tenant", domain, "add", "--user", "nobody-here@\(domain)"])
            #expect(unknownUser.status == 65 && unknownUser.stderr.contains("nobody-here@\(domain)"), "\(unknownUser.all)")
            let addGroup = try await Self.ctl(h, ["--json", "targets", "--tenant", domain, "add", "--group", group.id])
            #expect(addGroup.status == 0, "\(addGroup.all)")
            let added = try #require(try Self.json(addGroup.stdout) as? [String: Any])
            #expect((added["total"] as? Int ?? 0) >= 2, "\(added)")
            let remove = try await Self.ctl(h, ["targets", "--tenant", domain, "remove", "--user", second])
            #expect(remove.status == 0 && remove.stdout.contains("Removed 1 target(s)"), "\(remove.all)")
            let prune = try await Self.ctl(h, ["--json", "targets", "--tenant", domain, "remove", "--missing"])
            #expect(prune.status == 0, "\(prune.all)")
            #expect((try Self.json(prune.stdout) as? [String: Any])?["removed"] is [Any], "\(prune.stdout)")
            let noUser = try await Self.ctl(h, ["targets", "--tenant", domain, "remove"])
            #expect(noUser.status == 64, "\(noUser.all)")

            // sync is refused on a selected scope; extend switches and resyncs.
            let refused = try await Self.ctl(h, ["sync", "--tenant", domain])
            #expect(refused.status == 65 && refused.stderr.contains("SyncNotAllowedForSelectedScope"), "\(refused.all)")
            let extend = try await Self.ctl(h, ["extend", "--tenant", domain, "--wait"])
            #expect(extend.status == 0, "\(extend.all)")
            #expect(extend.stdout.contains("Switched to all targets: exchange-online"), "\(extend.stdout)")
            #expect(extend.stdout.contains("succeeded"), "\(extend.stdout)")
            let again = try #require(try Self.json(try await Self.ctl(h, ["--json", "extend", "--tenant", domain]).stdout) as? [String: Any])
            #expect(again["switched"] as? [String] == [], "an all-scope tenant has nothing to switch: \(again)")

            // sync --wait off a terminal: one plain line per progress update, then the outcome.
            let waited = try await Self.ctl(h, ["sync", "--tenant", domain, "--wait"])
            #expect(waited.status == 0, "\(waited.all)")
            let lines = waited.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count >= 2, "\(waited.stdout)")
            #expect(lines.dropLast().allSatisfy { $0.hasPrefix("page ") }, "progress lines: \(lines)")
            #expect(lines.last?.hasPrefix("Sync run ") == true && lines.last?.contains(" succeeded: page ") == true, "\(lines)")
            #expect(!waited.stdout.contains("\u{1B}") && !waited.stdout.contains("\r"), "no terminal, no redrawn bar")
            let jsonLines = try await Self.ctl(h, ["--json", "sync", "--tenant", domain, "--service", "exchange-online", "--wait"])
            #expect(jsonLines.status == 0, "\(jsonLines.all)")
            let objects = try jsonLines.stdout.split(separator: "\n").map { try #require(try Self.json(String($0)) as? [String: Any], "not JSON: \($0)") }
            #expect(objects.count >= 2 && objects.last?["done"] as? Bool == true, "\(jsonLines.stdout)")
            // On a pseudo-terminal (script(1)) the progress is one redrawn bar instead.
            let ctlPath = DaemonProcess.binDirectory.appendingPathComponent("tenantsyncctl").path
            let tty = try await ChildProcess.run("/usr/bin/script", ["-qec", "\(ctlPath) --socket \(h.socket) sync --tenant \(domain) --wait", "/dev/null"])
            #expect(tty.status == 0, "\(tty.all)")
            #expect(tty.stdout.contains("\r\u{1B}[2K[") && tty.stdout.contains(" succeeded: page "), "\(tty.stdout.debugDescription)")
            let started = try await Self.ctl(h, ["sync", "--tenant", domain])
            #expect(started.status == 0 && started.stdout.hasPrefix("Sync run "), "\(started.all)")
            let noAccount = try await Self.ctl(h, ["sync", "--tenant", domain, "--service", "onedrive"])
            #expect(noAccount.status == 65 && noAccount.stderr.contains("AccountNotFound"), "\(noAccount.all)")
            let badService = try await Self.ctl(h, ["sync", "--tenant", domain, "--service", "fax"])
            #expect(badService.status == 64, "\(badService.all)")

            // alerts: list, --all, --json, ack.
            let alerts = try await Self.ctl(h, ["alerts"])
            #expect(alerts.status == 0 && alerts.stdout.contains("account-protected") && alerts.stdout.contains("Exchange Online protected."), "\(alerts.all)")
            let alertsJSON = try #require((try Self.json(try await Self.ctl(h, ["--json", "alerts", "--all"]).stdout) as? [String: Any])?["alerts"] as? [[String: Any]])
            let protected = try #require(alertsJSON.first { $0["kind"] as? String == "account-protected" }?["id"] as? Int, "\(alertsJSON)")
            let ack = try await Self.ctl(h, ["alerts", "ack", "\(protected)"])
            #expect(ack.status == 0 && ack.stdout.contains("Acknowledged alert \(protected): Exchange Online protected."), "\(ack.all)")
            let ackJSON = try #require(try Self.json(try await Self.ctl(h, ["--json", "alerts", "ack", "\(protected)"]).stdout) as? [String: Any])
            #expect(ackJSON["acknowledged_at"] is String, "\(ackJSON)")
            let unacknowledged = try #require((try Self.json(try await Self.ctl(h, ["--json", "alerts"]).stdout) as? [String: Any])?["alerts"] as? [[String: Any]])
            #expect(!unacknowledged.contains { $0["id"] as? Int == protected })
            // alerts page newest first: --limit 1 gives a cursor, --after it the next older alert, until none is left.
            var seenIDs: [Int] = []
            var cursor: String?
            repeat {
                let page = try #require(try Self.json(try await Self.ctl(h, ["--json", "alerts", "--all", "--limit", "1"] + (cursor.map { ["--after", $0] } ?? [])).stdout) as? [String: Any])
                seenIDs += ((page["alerts"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? Int }
                cursor = page["next"] as? String
            } while cursor != nil && seenIDs.count <= alertsJSON.count
            #expect(seenIDs == alertsJSON.compactMap { $0["id"] as? Int }, "paging one by one reads every alert once, newest first")
            let ofTenant = try #require(try Self.json(try await Self.ctl(h, ["--json", "alerts", "--all", "--tenant", domain, "--service", "exchange-online"]).stdout) as? [String: Any])
            #expect((ofTenant["alerts"] as? [[String: Any]])?.contains { $0["id"] as? Int == protected } == true, "\(ofTenant)")
            let ofOtherService = try #require(try Self.json(try await Self.ctl(h, ["--json", "alerts", "--all", "--service", "teams-chat"]).stdout) as? [String: Any])
            #expect((ofOtherService["alerts"] as? [Any])?.isEmpty == true, "\(ofOtherService)")
            let acknowledged = try #require(try Self.json(try await Self.ctl(h, ["--json", "alerts", "--state", "acknowledged"]).stdout) as? [String: Any])
            #expect((acknowledged["alerts"] as? [[String: Any]])?.map { $0["id"] as? Int } == [protected], "only the acknowledged alert: \(acknowledged)")
            let unacknowledgedOnly = try #require(try Self.json(try await Self.ctl(h, ["--json", "alerts", "--state", "unacknowledged"]).stdout) as? [String: Any])
            #expect((unacknowledgedOnly["alerts"] as? [[String: Any]])?.contains { $0["id"] as? Int == protected } == false, "\(unacknowledgedOnly)")
            let badAlertState = try await Self.ctl(h, ["alerts", "--state", "read"])
            #expect(badAlertState.status == 65 && badAlertState.stderr.contains("InvalidArgument") && badAlertState.stderr.contains("acknowledged"), "\(badAlertState.all)")
            let badAlertService = try await Self.ctl(h, ["alerts", "--service", "fax"])
            #expect(badAlertService.status == 65 && badAlertService.stderr.contains("InvalidArgument"), "\(badAlertService.all)")
            let all = try await Self.ctl(h, ["alerts", "--all", "--limit", "50"])
            #expect(all.status == 0 && all.stdout.contains("Exchange Online protected."), "\(all.all)")
            let ackMissing = try await Self.ctl(h, ["alerts", "ack", "987654"])
            #expect(ackMissing.status == 65, "\(ackMissing.all)")

            // reload, as text and JSON.
            let reload = try await Self.ctl(h, ["reload"])
            #expect(reload.status == 0 && reload.stdout.hasPrefix("Configuration reloaded"), "\(reload.all)")
            let reloadJSON = try #require(try Self.json(try await Self.ctl(h, ["--json", "reload"]).stdout) as? [String: Any])
            #expect(reloadJSON["changed"] is [String], "\(reloadJSON)")

            // renew: two new consents (the administrator approves both device codes).
            let renewed = try await h.ctl(["renew", "\(id)", "--device-code"], approvals: [true, true])
            #expect(renewed.status == 0, "\(renewed.all)")
            #expect(renewed.stdout.contains("enter the code"), "\(renewed.stdout)")
            let renewMissing = try await Self.ctl(h, ["renew", "987654", "--device-code"])
            #expect(renewMissing.status == 65 && renewMissing.stderr.contains("AccountNotFound"), "\(renewMissing.all)")

            // A user who is neither root nor in the control group: the file lets it in, SO_PEERCRED does not.
            try await ChildProcess.shell("chmod 0666 \(h.socket); chmod a+x \(h.directory)")
            try await TestUsers.ensure(TestUsers.outsider)
            let outsider = try await TestUsers.run(as: TestUsers.outsider, [ctlPath, "--socket", h.socket, "status"])
            #expect(outsider.status == 77, "\(outsider.all)")
            #expect(outsider.stderr.contains("PermissionDenied"), "\(outsider.all)")

            // deprovision, then the account is gone.
            let removed = try await Self.ctl(h, ["deprovision", "\(id)"])
            #expect(removed.status == 0 && removed.stdout.contains("Removed account \(id): Exchange Online of \(domain)"), "\(removed.all)")
            let none = try #require((try Self.json(try await Self.ctl(h, ["--json", "accounts"]).stdout) as? [String: Any])?["accounts"] as? [Any])
            #expect(none.isEmpty)
            let gone = try await Self.ctl(h, ["deprovision", "\(id)"])
            #expect(gone.status == 65, "\(gone.all)")

            // The daemon stopped: the CLI says it cannot reach it and exits 69.
            h.daemon.signal(SIGTERM)
            #expect(await h.daemon.waitForExit() == 0, "log: \(h.daemon.log.suffix(2000))")
            let unreachable = try await Self.ctl(h, ["status"])
            #expect(unreachable.status == 69, "\(unreachable.all)")
            #expect(unreachable.stderr.contains("cannot reach the daemon at \(h.socket)"), "\(unreachable.all)")
        }
    }
}
