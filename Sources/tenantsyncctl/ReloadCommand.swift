import ArgumentParser
import ControlPlane

struct ReloadCommand: AsyncParsableCommand, ControlSubcommand {
    static let configuration = CommandConfiguration(commandName: "reload", abstract: "Make the daemon re-read its configuration.")

    @ParentCommand var root: TenantSyncCtl

    func run() async throws {
        try await global.withClient { client in
            let changed = try await client.reload()
            if global.json { return print(try ControlJSON.encode(["changed": changed])) }
            print(changed.isEmpty ? "Configuration reloaded; nothing changed." : "Configuration reloaded; changed: \(changed.joined(separator: ", "))")
        }
    }
}

struct DeprovisionCommand: AsyncParsableCommand, ControlSubcommand {
    static let configuration = CommandConfiguration(commandName: "deprovision", abstract: "Remove an account and forget its tokens.")

    @ParentCommand var root: TenantSyncCtl

    @Argument(help: "The account id.")
    var id: Int64

    func run() async throws {
        try await global.withClient { client in
            let account = try await client.deprovision(id: id)
            if global.json { return print(try ControlJSON.encode(account)) }
            print("Removed account \(account.id): \(account.service.displayName) of \(account.tenantDomain).")
        }
    }
}
