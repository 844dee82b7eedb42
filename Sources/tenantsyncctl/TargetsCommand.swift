import ArgumentParser
import ControlPlane

struct TargetsCommand: AsyncParsableCommand, ControlSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "targets",
        abstract: "List or change the selected targets of a tenant.",
        subcommands: [List.self, Add.self, Remove.self, SearchGroups.self],
        defaultSubcommand: List.self
    )

    @ParentCommand var root: TenantSyncCtl

    @Option(help: ArgumentHelp("The tenant: its id or primary domain.", valueName: "tenant"), completion: CompletionCandidates.tenants)
    var tenant: String

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the selected targets.")
        @ParentCommand var targets: TargetsCommand

        func run() async throws {
            let global = targets.global
            try await global.withClient { client in
                let list = try await client.listTargets(tenant: targets.tenant)
                if global.json { return print(try ControlJSON.encode(list)) }
                print("Scope: \(list.scope.rawValue), \(list.targets.count) of at most \(list.limit) targets")
                var table = TextTable("USER", "SOURCE", "ADDED", "IN DIRECTORY")
                for target in list.targets {
                    table.add(target.userPrincipalName, target.source.rawValue, Show.time(target.addedAt), target.exists ? "yes" : "no (remove with `targets remove --missing`)")
                }
                print(table.render())
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add users by exact UPN and the members of groups by id.")
        @ParentCommand var targets: TargetsCommand

        @Option(name: .customLong("user"), parsing: .upToNextOption, help: ArgumentHelp("A user principal name.", valueName: "upn"))
        var users: [String] = []

        @Option(name: .customLong("group"), parsing: .upToNextOption, help: ArgumentHelp("A group id (see search-groups).", valueName: "id"))
        var groups: [String] = []

        func validate() throws {
            if users.isEmpty, groups.isEmpty { throw ValidationError("give at least one --user or --group") }
        }

        func run() async throws {
            let global = targets.global
            try await global.withClient { client in
                let result = try await client.addTargets(AddTargetsRequest(tenant: targets.tenant, users: users, groups: groups))
                if global.json { return print(try ControlJSON.encode(result)) }
                print("Added \(result.added.count) target(s); \(result.total) in total.")
                for target in result.added { print("  \(TerminalText.line(target.userPrincipalName))") }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove users, or every user no longer in the directory.")
        @ParentCommand var targets: TargetsCommand

        @Option(name: .customLong("user"), parsing: .upToNextOption, help: ArgumentHelp("A user principal name.", valueName: "upn"))
        var users: [String] = []

        @Flag(help: "Remove every target that no longer exists in the directory.")
        var missing = false

        func validate() throws {
            if users.isEmpty, !missing { throw ValidationError("give at least one --user, or --missing") }
        }

        func run() async throws {
            let global = targets.global
            try await global.withClient { client in
                let result = try await client.removeTargets(RemoveTargetsRequest(tenant: targets.tenant, users: users, missing: missing ? true : nil))
                if global.json { return print(try ControlJSON.encode(result)) }
                print("Removed \(result.removed.count) target(s); \(result.total) left.")
                for user in result.removed { print("  \(TerminalText.line(user))") }
            }
        }
    }

    struct SearchGroups: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "search-groups", abstract: "Find groups whose name starts with a prefix (at least 3 characters).")
        @ParentCommand var targets: TargetsCommand

        @Argument(help: "The start of the group's display name.")
        var prefix: String

        func run() async throws {
            let global = targets.global
            try await global.withClient { client in
                let groups = try await client.searchGroups(tenant: targets.tenant, prefix: prefix)
                if global.json { return print(try ControlJSON.encode(groups)) }
                var table = TextTable("ID", "NAME", "MAIL", "MEMBERS")
                for group in groups { table.add(group.id, Show.text(group.displayName), Show.text(group.mail), String(group.members)) }
                print(table.render())
            }
        }
    }
}
