import ControlPlane
import TenantSyncCore
import Foundation
import Testing

@Suite("tenantsyncctl against a real control socket", .serialized)
struct CtlCommandTests {
    static var ctl: String {
        ProcessRunner.productsDirectory.appendingPathComponent("tenantsyncctl").path
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
        try #require(FileManager.default.isExecutableFile(atPath: ctl), "tenantsyncctl is not built next to the tests (\(ctl))")
        var env = ["PATH": "/usr/bin:/bin"]
        env.merge(environment) { $1 }
        return try await ProcessRunner.run(ctl, arguments, environment: env)
    }

    static func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    @Test("status says how many accounts and held runs there are in all when the daemon lists only the first of them")
    func statusCountsWhatItDoesNotList() async throws {
        struct Fleet: PartialControlHandler {
            let degradedTotal: Int
            let heldTotal: Int

            func status(context: ControlContext) async throws -> DaemonStatus {
                let now = Date(timeIntervalSince1970: 1_800_000_000)
                let degraded = (1...min(degradedTotal, 20)).map {
                    AccountRef(id: Int64($0), tenantID: "t\($0)", tenantDomain: "tenant\($0).example", service: .exchangeOnline, state: .tokenInvalid)
                }
                let held = (1...min(heldTotal, 20)).map {
                    SyncRunInfo(SyncRun(
                        id: Int64($0), tenantID: "t\($0)", service: nil, trigger: .daily, mode: .delta, state: .held, startedAt: now, finishedAt: now,
                        pages: 1, counts: DirectoryChangeCounts(), error: nil, note: "40% of users removed"
                    ))
                }
                return DaemonStatus(
                    version: "9.9.9", startedAt: now, accounts: AccountCounts(total: 90, active: 90 - degradedTotal, provisioning: 0, tokenInvalid: degradedTotal),
                    degraded: degraded, degradedTotal: degradedTotal, nextSync: nil, alertDelivery: [], unacknowledgedAlerts: 0,
                    heldSyncs: held, heldSyncsTotal: heldTotal
                )
            }
        }
        try await ControlServerHarness.withServer(handler: Fleet(degradedTotal: 57, heldTotal: 24)) { path, _ in
            let status = try await Self.run(["--socket", path, "status"])
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.stdout.contains("Degraded: 57, the first 20 shown; `tenantsyncctl accounts --state token-invalid` lists every invalid one\n"), "\(status.stdout)")
            #expect(status.stdout.contains("Held syncs: 24, the first 20 shown; `tenantsyncctl directory --tenant T` shows a tenant's (mass-deletion guard"), "\(status.stdout)")
            let rows = status.stdout.split(separator: "\n").filter { $0.contains(".example") && $0.contains("exchange-online") && $0.hasSuffix("token-invalid") }
            #expect(rows.count == 20, "\(rows.count) degraded rows printed")
        }
        // All of them listed: the count alone.
        try await ControlServerHarness.withServer(handler: Fleet(degradedTotal: 3, heldTotal: 2)) { path, _ in
            let status = try await Self.run(["--socket", path, "status"])
            #expect(status.stdout.contains("Degraded: 3\n") && status.stdout.contains("Held syncs: 2 (mass-deletion guard"), "\(status.stdout)")
        }
    }

    @Test("status, accounts and account print tables, and JSON with --json")
    func readCommands() async throws {
        try await ControlServerHarness.withServer { path, _ in
            let status = try await Self.run(["--socket", path, "status"])
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.stdout.contains("tenantsyncd 9.9.9"))
            #expect(status.stdout.contains("Accounts: 2 (1 active, 0 provisioning, 1 token-invalid)"))
            #expect(status.stdout.contains("contoso.example  exchange-online  token-invalid"))
            #expect(status.stdout.contains("smtp     2"))
            #expect(status.stdout.contains("Unacknowledged alerts: 3"))
            #expect(status.stdout.contains("Nodes: 3 (2 alive); `tenantsyncctl nodes` shows the silent ones\n"), "\(status.stdout)")

            let statusJSON = try await Self.run(["--socket", path, "--json", "status"])
            let object = try #require(try Self.json(statusJSON.stdout) as? [String: Any])
            #expect(object["unacknowledged_alerts"] as? Int == 3)
            #expect((object["accounts"] as? [String: Any])?["token_invalid"] as? Int == 1)

            // TENANTSYNC_SOCKET replaces the default path.
            let accounts = try await Self.run(["accounts"], environment: ["TENANTSYNC_SOCKET": path])
            #expect(accounts.status == 0, "\(accounts.stderr)")
            let lines = accounts.stdout.split(separator: "\n")
            #expect(lines.first?.hasPrefix("ID  TENANT") == true)
            #expect(lines.count == 3)
            #expect(lines[2].contains("teams-chat") && lines[2].contains("active"))

            let accountsJSON = try await Self.run(["--socket", path, "--json", "accounts", "--tenant", "contoso.example"])
            let list = try #require((try Self.json(accountsJSON.stdout) as? [String: Any])?["accounts"] as? [[String: Any]])
            #expect(list.map { $0["id"] as? Int } == [7, 8])

            let account = try await Self.run(["--socket", path, "account", "7"])
            #expect(account.status == 0, "\(account.stderr)")
            #expect(account.stdout.contains("AADSTS700082"))
            #expect(account.stdout.contains("tenantsyncctl renew 7"))
            #expect(account.stdout.contains("ews"))

            let missing = try await Self.run(["--socket", path, "account", "42"])
            #expect(missing.status == 65)
            #expect(missing.stderr.contains("AccountNotFound"))

            let unknownTenant = try await Self.run(["--socket", path, "accounts", "--tenant", "nowhere.example"])
            #expect(unknownTenant.status == 65)
            #expect(unknownTenant.stderr.contains("TenantNotFound"))

            // Filters and paging go to the daemon; the next cursor is in --json and named under the table.
            let firstPage = try await Self.run(["--socket", path, "--json", "accounts", "--limit", "1"])
            let first = try #require(try Self.json(firstPage.stdout) as? [String: Any])
            #expect((first["accounts"] as? [[String: Any]])?.map { $0["id"] as? Int } == [7] && first["next"] as? String == "7", "\(first)")
            let secondPage = try #require(try Self.json(try await Self.run(["--socket", path, "--json", "accounts", "--limit", "1", "--after", "7"]).stdout) as? [String: Any])
            #expect((secondPage["accounts"] as? [[String: Any]])?.map { $0["id"] as? Int } == [8] && secondPage["next"] == nil, "\(secondPage)")
            let table = try await Self.run(["--socket", path, "accounts", "--limit", "1"])
            #expect(table.stdout.contains("More accounts follow: add --after 7"), "\(table.stdout)")
            let invalid = try await Self.run(["--socket", path, "--json", "accounts", "--state", "token-invalid"])
            let invalidIDs = ((try Self.json(invalid.stdout) as? [String: Any])?["accounts"] as? [[String: Any]])?.map { $0["id"] as? Int }
            #expect(invalidIDs == [7], "\(invalid.stdout)")
            let badState = try await Self.run(["--socket", path, "accounts", "--state", "broken"])
            #expect(badState.status == 65 && badState.stderr.contains("InvalidArgument"), "\(badState.stderr)")
        }
    }

    @Test("provision walks the steps: device code, app principal, completion")
    func provision() async throws {
        try await ControlServerHarness.withServer { path, _ in
            let done = try await Self.run(["--socket", path, "provision", "onedrive", "--tenant", "contoso.example", "--device-code", "--confirm-app-principal"])
            #expect(done.status == 0, "\(done.stderr)")
            #expect(done.stdout.contains("Open https://microsoft.com/devicelogin and enter the code ABCD-EFGH"))
            #expect(done.stdout.contains("App Id: 00000000-0000-0000-0000-00000000abcd"))
            #expect(done.stdout.contains("Scope=\"http://sharepoint/content/tenant\""))
            #expect(done.stdout.contains("OneDrive protected."))

            // Without a terminal and without the flag, the confirmation is a usage error.
            let unconfirmed = try await Self.run(["--socket", path, "provision", "onedrive", "--tenant", "contoso.example"])
            #expect(unconfirmed.status == 64)
            #expect(unconfirmed.stderr.contains("--confirm-app-principal"))

            let exists = try await Self.run(["--socket", path, "provision", "exchange-online", "--tenant", "exists.example"])
            #expect(exists.status == 65)
            #expect(exists.stderr.contains("AccountExists"))

            let badService = try await Self.run(["--socket", path, "provision", "myspace", "--tenant", "contoso.example"])
            #expect(badService.status == 64)

            let badScope = try await Self.run(["--socket", path, "provision", "exchange-online", "--tenant", "t", "--user", "a@b"])
            #expect(badScope.status == 64)

            // Teams Chat with the customer's app: the secret travels but is never printed.
            let directory = try ControlServerHarness.makeDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try "s3cr3t-value\n".write(toFile: directory + "/secret", atomically: true, encoding: .utf8)
            let teams = try await Self.run(["--socket", path, "--json", "provision", "teams-chat", "--tenant", "contoso.example", "--app-id", "app-9", "--secret-file", directory + "/secret", "--licensing-model", "B"])
            #expect(teams.status == 0, "\(teams.stderr)")
            #expect(!teams.stdout.contains("s3cr3t") && !teams.stderr.contains("s3cr3t"))
            let lastLine = try #require(teams.stdout.split(separator: "\n").last)
            #expect((try Self.json(String(lastLine)) as? [String: Any])?["step"] as? String == "complete")

            let noSecret = try await Self.run(["--socket", path, "provision", "teams-chat", "--tenant", "t", "--app-id", "a", "--secret-file", directory + "/absent"])
            #expect(noSecret.status == 66)
            let badModel = try await Self.run(["--socket", path, "provision", "teams-chat", "--tenant", "t", "--licensing-model", "C"])
            #expect(badModel.status == 64)
        }
    }

    @Test("sync --wait prints progress lines off a terminal and a bar on one")
    func sync() async throws {
        try await ControlServerHarness.withServer { path, _ in
            let waited = try await Self.run(["--socket", path, "sync", "--tenant", "contoso.example", "--service", "onedrive", "--wait"])
            #expect(waited.status == 0, "\(waited.stderr)")
            let lines = waited.stdout.split(separator: "\n").map(String.init)
            #expect(lines.count == 4)
            #expect(lines[0] == "page 1: users +10 ~0 -0, groups +0 ~0 -0 (page 1)")
            #expect(lines[3].hasPrefix("Sync run 11 succeeded"))

            let started = try await Self.run(["--socket", path, "sync", "--tenant", "contoso.example"])
            #expect(started.status == 0)
            #expect(started.stdout.contains("Sync run 11 succeeded"))

            let jsonLines = try await Self.run(["--socket", path, "--json", "sync", "--tenant", "contoso.example", "--wait"])
            let objects = try jsonLines.stdout.split(separator: "\n").map { try #require(try Self.json(String($0)) as? [String: Any]) }
            #expect(objects.count == 4)
            #expect(objects.last?["done"] as? Bool == true)

            let selected = try await Self.run(["--socket", path, "sync", "--tenant", "selected.example"])
            #expect(selected.status == 65)
            #expect(selected.stderr.contains("SyncNotAllowedForSelectedScope"))

            let badService = try await Self.run(["--socket", path, "sync", "--tenant", "t", "--service", "fax"])
            #expect(badService.status == 64)

            // On a pseudo-terminal the progress is one redrawn line.
            let tty = try await ProcessRunner.run("/usr/bin/script", ["-qec", "\(Self.ctl) --socket \(path) sync --tenant contoso.example --wait", "/dev/null"])
            #expect(tty.status == 0, "\(tty.stdout)")
            #expect(tty.stdout.contains("\r\u{1B}[2K[>"))
            #expect(tty.stdout.contains("Sync run 11 succeeded"))
        }
    }

    /// A group's display name comes from a Microsoft 365 directory: whoever named it may have put
    /// terminal escapes in it. The test handler names its group after the prefix asked for.
    @Test("names from the daemon reach the terminal with control characters escaped, in text and JSON")
    func controlCharactersFromTheDaemonAreEscaped() async throws {
        let hostile = "\u{1b}[2J\u{1b}]0;owned\u{07}Evil\u{9b}31m\u{7f}\u{202e}"
        let raw = ["\u{1b}", "\u{07}", "\u{9b}", "\u{7f}", "\u{202e}"]
        try await ControlServerHarness.withServer { path, _ in
            let groups = try await Self.run(["--socket", path, "targets", "--tenant", "contoso.example", "search-groups", hostile])
            #expect(groups.status == 0, "\(groups.stderr)")
            for character in raw {
                #expect(!groups.stdout.unicodeScalars.contains(character.unicodeScalars.first!), "\(character.debugDescription) reached the terminal: \(groups.stdout.debugDescription)")
            }
            #expect(groups.stdout.contains(#"\u001b[2J\u001b]0;owned\u0007Evil\u009b31m\u007f\u202e Sales"#), "got \(groups.stdout.debugDescription)")

            // JSON stays JSON: the escapes decode to the name the daemon sent.
            let json = try await Self.run(["--socket", path, "--json", "targets", "--tenant", "contoso.example", "search-groups", hostile])
            for character in raw {
                #expect(!json.stdout.unicodeScalars.contains(character.unicodeScalars.first!), "\(character.debugDescription) reached the terminal in JSON")
            }
            #expect((try Self.json(json.stdout) as? [[String: Any]])?.first?["display_name"] as? String == hostile + " Sales")

            // A newline inside a name must not forge a line of output.
            let add = try await Self.run(["--socket", path, "targets", "--tenant", "contoso.example", "add", "--user", "evil@contoso.example\n[ok] forged"])
            #expect(add.status == 0, "\(add.stderr)")
            #expect(!add.stdout.split(separator: "\n").contains { $0.hasPrefix("[ok]") }, "a forged line: \(add.stdout)")
            #expect(add.stdout.contains(#"  evil@contoso.example\u000a[ok] forged"#), "got \(add.stdout.debugDescription)")
        }
    }

    @Test("targets, alerts, reload, and the exit codes of daemon errors")
    func otherCommands() async throws {
        try await ControlServerHarness.withServer { path, _ in
            let targets = try await Self.run(["--socket", path, "targets", "--tenant", "contoso.example"])
            #expect(targets.status == 0, "\(targets.stderr)")
            #expect(targets.stdout.contains("Scope: selected, 2 of at most 100 targets"))
            #expect(targets.stdout.contains("gone@contoso.example"))

            let add = try await Self.run(["--socket", path, "targets", "--tenant", "contoso.example", "add", "--user", "a@contoso.example", "b@contoso.example"])
            #expect(add.status == 0, "\(add.stderr)")
            #expect(add.stdout.contains("Added 2 target(s); 3 in total."))

            let tooMany = try await Self.run(["--socket", path, "targets", "--tenant", "contoso.example", "add", "--user"] + (0...100).map { "u\($0)@x" })
            #expect(tooMany.status == 65)
            #expect(tooMany.stderr.contains("TooManyTargets"))

            let short = try await Self.run(["--socket", path, "targets", "--tenant", "contoso.example", "search-groups", "ab"])
            #expect(short.status == 65)
            #expect(short.stderr.contains("GroupPrefixTooShort"))

            let groups = try await Self.run(["--socket", path, "--json", "targets", "--tenant", "contoso.example", "search-groups", "Sal"])
            #expect((try Self.json(groups.stdout) as? [[String: Any]])?.first?["display_name"] as? String == "Sal Sales")

            let remove = try await Self.run(["--socket", path, "targets", "--tenant", "contoso.example", "remove", "--missing"])
            #expect(remove.status == 69, "RemoveTargets is not implemented by the test handler")
            #expect(remove.stderr.contains("MethodNotImplemented"))

            let alerts = try await Self.run(["--socket", path, "alerts"])
            #expect(alerts.status == 0, "\(alerts.stderr)")
            #expect(alerts.stdout.contains("critical"))
            #expect(alerts.stdout.contains("smtp:pending"))
            let all = try await Self.run(["--socket", path, "alerts", "--all"])
            #expect(all.status == 0, "\(all.stderr)")

            let ack = try await Self.run(["--socket", path, "alerts", "ack", "3"])
            #expect(ack.status == 0, "\(ack.stderr)")
            #expect(ack.stdout.contains("Acknowledged alert 3"))
            let ackMissing = try await Self.run(["--socket", path, "alerts", "ack", "99"])
            #expect(ackMissing.status == 65)

            let reload = try await Self.run(["--socket", path, "reload"])
            #expect(reload.stdout.contains("changed: smtp.host"))

            let renew = try await Self.run(["--socket", path, "renew", "7"])
            #expect(renew.status == 69)
            let extend = try await Self.run(["--socket", path, "extend", "--tenant", "contoso.example", "--wait"])
            #expect(extend.status == 69)
            // Account 7 exists (the CLI reads it first to show the manual clean-up); its deprovision fails inside the daemon.
            let internalError = try await Self.run(["--socket", path, "deprovision", "7"])
            #expect(internalError.status == 70)
            #expect(internalError.stderr.contains("Internal"))
        }
    }

    @Test("an unreachable daemon exits 69; bad usage exits 64")
    func unreachable() async throws {
        let absent = try await Self.run(["--socket", "/nonexistent/control", "status"])
        #expect(absent.status == 69)
        #expect(absent.stderr.contains("cannot reach the daemon at /nonexistent/control"))
        let usage = try await Self.run(["account", "not-a-number"])
        #expect(usage.status == 64)
        let noSubcommand = try await Self.run(["frobnicate"])
        #expect(noSubcommand.status == 64)
    }

    @Test("shell completions and the man page come from the argument definitions")
    func completionsAndManPage() async throws {
        for shell in ["bash", "zsh", "fish"] {
            let script = try await Self.run(["--generate-completion-script", shell])
            #expect(script.status == 0)
            #expect(script.stdout.contains("search-groups"), "\(shell) completion lacks a nested subcommand")
            #expect(script.stdout.contains("nodes"), "\(shell) completion lacks the nodes subcommand")
        }
        let man = try await Self.run(["generate-manpage"])
        #expect(man.status == 0, "\(man.stderr)")
        #expect(man.stdout.hasPrefix(".TH TENANTSYNCCTL 8"))
        #expect(man.stdout.contains(".SS targets search\\-groups"))
        #expect(man.stdout.contains(".SS nodes") && man.stdout.contains("lease_duration"), "the man page lacks nodes")
        #expect(man.stdout.contains("\\fB\\-\\-licensing\\-model\\fR \\fIA|B|evaluation\\fR"))
        // The page is valid roff: man renders it without warnings.
        let directory = try ControlServerHarness.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try man.stdout.write(toFile: directory + "/tenantsyncctl.1", atomically: true, encoding: .utf8)
        let groff = try await ProcessRunner.run("/usr/bin/groff", ["-man", "-Tutf8", "-ww", "-z", directory + "/tenantsyncctl.1"])
        #expect(groff.status == 0)
        #expect(groff.stderr.isEmpty, "groff warnings: \(groff.stderr)")
    }
}

extension CtlCommandTests {
    @Test("directory prints counts, runs and delta link ages; --user answers, pages groups, and exits 67 when not protected; sync --full shows the mode")
    func directory() async throws {
        try await ControlServerHarness.withServer { path, _ in
            let shown = try await Self.run(["--socket", path, "directory", "--tenant", "contoso.example"])
            #expect(shown.status == 0, "\(shown.stderr)")
            let lines = shown.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            #expect(lines.contains("Users:       1200 (3 disabled)"), "\(shown.stdout)")
            #expect(lines.contains("Memberships: 5310"), "\(shown.stdout)")
            #expect(lines.contains("Services:    exchange-online (token-invalid, account 7)"), "\(shown.stdout)")
            #expect(lines.contains { $0.hasPrefix("  full   4    succeeded  provision") && $0.hasSuffix("users +1200 ~0 -0, groups +40 ~0 -0") }, "\(shown.stdout)")
            #expect(lines.contains { $0.hasPrefix("  delta  -    never") }, "\(shown.stdout)")
            #expect(lines.contains { $0.hasPrefix("  groups  ") && $0.hasSuffix("  1d 2h") }, "\(shown.stdout)")
            #expect(lines.contains { $0.hasPrefix("  users  ") && $0.hasSuffix("  45s") }, "\(shown.stdout)")

            let json = try #require(try Self.json(try await Self.run(["--socket", path, "--json", "directory", "--tenant", "contoso.example"]).stdout) as? [String: Any])
            #expect(json["memberships"] as? Int == 5310 && json["last_delta"] == nil)
            #expect((json["delta_links"] as? [[String: Any]])?.first?["age_seconds"] as? Int == 93_780, "\(json)")

            let unknown = try await Self.run(["--socket", path, "directory", "--tenant", "nowhere.example"])
            #expect(unknown.status == 65 && unknown.stderr.contains("TenantNotFound"), "\(unknown.all)")

            let user = try await Self.run(["--socket", path, "directory", "--tenant", "contoso.example", "--user", "adele@contoso.example"])
            #expect(user.status == 0, "\(user.stderr)")
            #expect(user.stdout.hasPrefix("Adele@contoso.example: protected\n"), "\(user.stdout)")
            #expect(user.stdout.contains("Through:     scope all (every user of the directory)"), "\(user.stdout)")
            #expect(user.stdout.contains("(first synced)") && user.stdout.contains("Services:    exchange-online"), "\(user.stdout)")
            // A display name from the tenant cannot drive the operator's terminal.
            #expect(!user.stdout.contains("\u{1B}") && !user.stdout.contains("\u{202E}") && user.stdout.contains(#"Adele \u001b[31mVance\u202e"#), "\(user.stdout.debugDescription)")
            #expect(user.stdout.contains("Groups (5):") && user.stdout.contains("nested") && user.stdout.contains("More groups: --groups-after g2"), "\(user.stdout)")

            let missing = try await Self.run(["--socket", path, "directory", "--tenant", "contoso.example", "--user", "nobody@contoso.example"])
            #expect(missing.status == 67, "not protected is EX_NOUSER: \(missing.all)")
            #expect(missing.stdout.hasPrefix("nobody@contoso.example: NOT protected (not-in-directory)\n"), "\(missing.stdout)")
            #expect(!missing.stdout.contains("Groups ("), "no groups for a user the directory does not have")
            let missingJSON = try await Self.run(["--socket", path, "--json", "directory", "--tenant", "contoso.example", "--user", "nobody@contoso.example"])
            #expect(missingJSON.status == 67)
            let answer = try #require(try Self.json(missingJSON.stdout) as? [String: Any])
            #expect(answer["protected"] as? Bool == false && answer["reason"] as? String == "not-in-directory", "\(answer)")

            let misuse = try await Self.run(["--socket", path, "directory", "--tenant", "contoso.example", "--groups-limit", "5"])
            #expect(misuse.status == 64, "\(misuse.all)")

            let full = try await Self.run(["--socket", path, "sync", "--tenant", "contoso.example", "--full", "--wait"])
            #expect(full.status == 0, "\(full.stderr)")
            #expect(full.stdout.split(separator: "\n").last == "Sync run 11 succeeded: page 3: users +30 ~0 -0, groups +0 ~0 -0 (full)", "\(full.stdout)")
            let delta = try await Self.run(["--socket", path, "sync", "--tenant", "contoso.example", "--wait"])
            #expect(delta.stdout.split(separator: "\n").last?.hasSuffix("(delta)") == true, "\(delta.stdout)")
            let held = try await Self.run(["--socket", path, "sync", "--tenant", "contoso.example", "--full", "--confirm-held"])
            #expect(held.status == 64, "\(held.all)")
        }
    }
}

extension CtlCommandTests {
    @Test("nodes prints a row per node (heartbeat age, alive or silent, leases by kind, the answering one marked) and JSON with --json")
    func nodes() async throws {
        try await ControlServerHarness.withServer { path, _ in
            let shown = try await Self.run(["--socket", path, "nodes"])
            #expect(shown.status == 0, "\(shown.stderr)")
            let lines = shown.stdout.split(separator: "\n").map(String.init)
            #expect(lines == [
                "NODE      VERSION  STARTED            LAST HEARTBEAT  STATE       LEASES",
                "node-a    9.9.9    2025-10-09 08:53Z  4s ago          alive       token-refresh 12, sync 1",
                "node-b *  9.9.9    2025-10-09 08:53Z  0s ago          alive       -",
                "node-c    9.9.8    2025-10-08 08:53Z  12m ago         silent 12m  -",
                "* answered this call",
            ], "\(shown.stdout)")

            let json = try #require(try Self.json(try await Self.run(["--socket", path, "--json", "nodes"]).stdout) as? [String: Any])
            let nodes = try #require(json["nodes"] as? [[String: Any]], "\(json)")
            #expect(nodes.map { $0["name"] as? String } == ["node-a", "node-b", "node-c"])
            #expect(nodes.map { $0["silent_seconds"] as? Int } == [4, 0, 754] && nodes.map { $0["alive"] as? Bool } == [true, true, false], "\(nodes)")
            #expect(nodes.map { $0["answering"] as? Bool } == [false, true, false])
            let leases = try #require(nodes.first?["leases"] as? [[String: Any]])
            #expect(leases.map { "\($0["kind"] ?? "") \($0["count"] ?? "")" } == ["token-refresh 12", "sync 1"], "\(leases)")
            #expect(nodes.first?["last_heartbeat_at"] as? String == "2025-10-09T08:53:16Z", "\(nodes)")
        }
    }
}
