import ArgumentParser
import ControlPlane

struct ReloadCommand: AsyncParsableCommand, ControlSubcommand {
    static let configuration = CommandConfiguration(commandName: "reload", abstract: "Make the daemon re-read its configuration.")

    @ParentCommand var root: TenantSyncCtl

    func run() async throws {
        try await global.withClient { client in
            let changed = try await client.reload()
            if global.json { return print(try ControlJSON.encode(["changed": changed])) }
            guard !changed.isEmpty else { return print("Configuration reloaded; nothing changed.") }
            // The daemon prefixes each key with what became of it; anything else is listed as it came.
            let applied = changed.compactMap { $0.hasPrefix("applied ") ? String($0.dropFirst("applied ".count)) : nil }
            let restart = changed.compactMap { $0.hasPrefix("needs a restart: ") ? String($0.dropFirst("needs a restart: ".count)) : nil }
            let other = changed.filter { !$0.hasPrefix("applied ") && !$0.hasPrefix("needs a restart: ") }
            print("Configuration reloaded.")
            if !applied.isEmpty { print("Applied now: \(applied.joined(separator: ", "))") }
            if !restart.isEmpty { print("Needs a restart (the running value stays until then): \(restart.joined(separator: ", "))") }
            if !other.isEmpty { print("changed: \(other.joined(separator: ", "))") }
        }
    }
}

struct DeprovisionCommand: AsyncParsableCommand, ControlSubcommand {
    static let configuration = CommandConfiguration(commandName: "deprovision", abstract: "Remove an account and forget its tokens.")

    @ParentCommand var root: TenantSyncCtl

    @Argument(help: "The account id.", completion: CompletionCandidates.accountIDs)
    var id: Int64

    func run() async throws {
        try await global.withClient { client in
            // Read the app id first: the account is gone afterwards.
            let detail = try await client.account(id: id)
            let account = try await client.deprovision(id: id)
            if global.json { return print(try ControlJSON.encode(account)) }
            print("Removed account \(account.id): \(account.service.displayName) of \(account.tenantDomain); its grants and tokens are wiped.")
            let appID = detail.appID ?? "(the product app)"
            switch account.service {
            case .sharepointOnline, .onedrive:
                let site = "https://\(account.tenantDomain.split(separator: ".").first.map(String.init) ?? account.tenantDomain)-admin.sharepoint.com"
                print("Still to do in Microsoft: the app principal of App Id \(appID) stays until you remove it:")
                print("  open \(site)/_layouts/15/TA_AllAppPrincipals.aspx and delete the app principal \(appID).")
            case .teamsChat:
                print("Still to do in Microsoft: the app \(appID) and its secret stay registered in Microsoft Entra ID;")
                print("  delete the app (or its secret) there, and its app principal on the SharePoint admin site's _layouts/15/TA_AllAppPrincipals.aspx if you granted one.")
            default:
                break
            }
        }
    }
}
