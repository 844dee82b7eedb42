import ArgumentParser
import TenantSyncCore

@main
struct TenantSyncCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenantsyncctl",
        abstract: "Drive the tenantsync daemon over its control socket.",
        discussion: """
            Talks Varlink (interface io.tenantsync.Control) to tenantsyncd. Tables by default, \
            --json for scripts. Exit codes follow sysexits: 0 ok, 64 usage, 65 bad data, \
            67 user not protected (directory --user), 69 daemon unreachable, 70 internal error, 75 temporary failure, 77 permission denied.
            """,
        version: TenantSyncVersion.current,
        subcommands: [
            StatusCommand.self, AccountsCommand.self, AccountCommand.self, ProvisionCommand.self, RenewCommand.self,
            DeprovisionCommand.self, UpgradeOutboundCommand.self, GrantActivityDataCommand.self, SyncCommand.self, ExtendCommand.self, TargetsCommand.self, DirectoryCommand.self, AlertsCommand.self,
            NodesCommand.self, ReloadCommand.self, ManPageCommand.self,
        ]
    )

    @OptionGroup var global: GlobalOptions
}
