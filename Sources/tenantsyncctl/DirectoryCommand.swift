import ArgumentParser
import ControlPlane
import Foundation

struct DirectoryCommand: AsyncParsableCommand, ControlSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "directory",
        abstract: "Show what a tenant's synced directory protects, or whether one user is protected.",
        discussion: """
            Without --user: users, groups and memberships counted, the newest full and delta runs, and the \
            age of each delta link. With --user: whether the user is protected, through which scope, since \
            when, by which services, and its groups (paged). A user who is not protected exits with 67 \
            (EX_NOUSER), after printing why.
            """
    )

    /// sysexits' EX_NOUSER: the answer for a user who is not protected, so scripts can test it.
    static let notProtected: Int32 = 67

    @ParentCommand var root: TenantSyncCtl

    @Option(help: ArgumentHelp("The tenant: its id or primary domain.", valueName: "tenant"), completion: CompletionCandidates.tenants)
    var tenant: String

    @Option(help: ArgumentHelp("Tell whether this user (user principal name) is protected.", valueName: "upn"))
    var user: String?

    @Option(help: ArgumentHelp("Groups of the user to show (1-1000, default 100).", valueName: "n"))
    var groupsLimit: Int?

    @Option(help: ArgumentHelp("Show the user's groups after this group id (the previous page's last).", valueName: "id"))
    var groupsAfter: String?

    func validate() throws {
        if user == nil, groupsLimit != nil || groupsAfter != nil { throw ValidationError("--groups-limit and --groups-after go with --user") }
        if let groupsLimit, !(1...1_000).contains(groupsLimit) { throw ValidationError("--groups-limit must be between 1 and 1000") }
    }

    func run() async throws {
        if let user { return try await showUser(user) }
        try await global.withClient { client in
            let directory = try await client.directory(tenant: tenant)
            if global.json { return print(try ControlJSON.encode(directory)) }
            Self.facts([
                ("Tenant", "\(directory.tenantDomain) (\(directory.tenantID))"),
                ("Scope", directory.scope == .all ? "all (every user of the directory)" : "selected (\(directory.selectedTargets) targets; see `tenantsyncctl targets`)"),
                ("Users", "\(directory.users)" + (directory.disabledUsers > 0 ? " (\(directory.disabledUsers) disabled)" : "")),
                ("Groups", "\(directory.groups)"),
                ("Memberships", "\(directory.memberships)"),
                ("Services", directory.services.isEmpty ? "none" : directory.services.map { "\($0.service.rawValue) (\($0.state.rawValue), account \($0.accountID))" }.joined(separator: ", ")),
            ])
            var runs = TextTable("LAST", "RUN", "STATE", "TRIGGER", "STARTED", "FINISHED", "CHANGES")
            for (label, run) in [("full", directory.lastFull), ("delta", directory.lastDelta)] {
                guard let run else {
                    runs.add(label, "-", "never", "-", "-", "-", "-")
                    continue
                }
                runs.add(
                    label, String(run.id), run.state.rawValue, run.trigger.rawValue, Show.time(run.startedAt), Show.time(run.finishedAt),
                    "users +\(run.usersAdded) ~\(run.usersChanged) -\(run.usersRemoved), groups +\(run.groupsAdded) ~\(run.groupsChanged) -\(run.groupsRemoved)"
                        + Self.clean(run.error.map { " — \($0)" } ?? "")
                )
            }
            print("Runs:")
            print(indent(runs.render()))
            print("Delta links:")
            if directory.deltaLinks.isEmpty {
                print("  none (the next sync reads everything)")
            } else {
                var links = TextTable("RESOURCE", "UPDATED", "AGE")
                for link in directory.deltaLinks { links.add(link.resource, Show.time(link.updatedAt), Show.age(link.ageSeconds)) }
                print(indent(links.render()))
            }
        }
    }

    private func showUser(_ user: String) async throws {
        try await global.withClient { client in
            let answer = try await client.directoryUser(DirectoryUserRequest(tenant: tenant, user: user, groupsLimit: groupsLimit, groupsAfter: groupsAfter))
            if global.json {
                print(try ControlJSON.encode(answer))
            } else {
                Self.show(answer)
            }
            if !answer.isProtected { throw ExitCode(Self.notProtected) }
        }
    }

    static func show(_ answer: DirectoryUserInfo) {
        let name = clean(answer.userPrincipalName)
        print(answer.isProtected ? "\(name): protected" : "\(name): NOT protected (\(answer.reason?.rawValue ?? "unknown"))")
        print(clean(answer.message))
        var facts: [(String, String)] = [("Tenant", "\(answer.tenantDomain) (\(answer.tenantID))"), ("Scope", answer.scope.rawValue)]
        if let via = answer.via { facts.append(("Through", via == "all" ? "scope all (every user of the directory)" : "selected target, added by \(via)")) }
        if let since = answer.since { facts.append(("Since", Show.time(since) + (answer.via == "all" ? " (first synced)" : " (added)"))) }
        if !answer.services.isEmpty { facts.append(("Services", answer.services.map(\.rawValue).joined(separator: ", "))) }
        if let id = answer.userID {
            let enabled = answer.accountEnabled == false ? ", account disabled in Entra ID" : ""
            facts.append(("User", "\(clean(Show.text(answer.displayName))) <\(clean(Show.text(answer.mail)))>, id \(id)\(enabled)"))
            facts.append(("Last change", Show.time(answer.changedAt)))
        }
        if let run = answer.pendingRemovalRun { facts.append(("Held removal", "sync run \(run)")) }
        Self.facts(facts)
        guard answer.userID != nil else { return }
        print("Groups (\(answer.groupsTotal)):")
        if !answer.groups.isEmpty {
            var table = TextTable("ID", "NAME", "MAIL", "MEMBERSHIP")
            for group in answer.groups {
                table.add(group.id, clean(Show.text(group.displayName)), clean(Show.text(group.mail)), group.direct ? "direct" : "nested")
            }
            print(indent(table.render()))
        }
        if let next = answer.groupsNext { print("More groups: --groups-after \(next)") }
    }

    static func facts(_ facts: [(String, String)]) {
        let width = facts.map(\.0.count).max() ?? 0
        for (key, value) in facts { print("\((key + ":").padding(toLength: width + 1, withPad: " ", startingAt: 0)) \(value)") }
    }

    /// Directory names come from the tenant: one value on one line, escaped like every other (``TerminalText``).
    static func clean(_ text: String) -> String { TerminalText.line(text) }
}
