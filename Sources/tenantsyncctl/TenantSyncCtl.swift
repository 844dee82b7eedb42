import ArgumentParser
import TenantSyncCore

@main
struct TenantSyncCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenantsyncctl",
        abstract: "Drive the tenantsync daemon over its control socket.",
        version: TenantSyncVersion.current
    )
}
