import ArgumentParser
import Foundation
import Logging
import M365Emulator
import ServiceLifecycle

/// `tenantsync-emulator`: the Microsoft 365 emulator on loopback. Prints its base URL as the first line of stdout.
@main
struct TenantSyncEmulator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenantsync-emulator",
        abstract: "Microsoft 365 emulator (identity platform, Graph directory, admin API) on loopback.")

    @Option(help: "Port to listen on (0 picks a free one).") var port: Int = EmulatorDefaults.port
    @Option(help: "Loopback address to bind.") var host: String = "127.0.0.1"
    @Option(help: "Number of generated tenants.") var tenants: Int = EmulatorDefaults.tenants
    @Option(help: "Users per tenant.") var users: Int = EmulatorDefaults.usersPerTenant
    @Option(help: "Groups per tenant.") var groups: Int = EmulatorDefaults.groupsPerTenant
    @Option(help: "Generator seed.") var seed: UInt64 = EmulatorDefaults.seed
    @Option(name: .customLong("client-id"), help: "Client id of the product's multi-tenant app.") var clientID: String = EmulatorDefaults.clientID
    @Option(name: .customLong("client-secret"), help: "Client secret of that app.") var clientSecret: String = EmulatorDefaults.clientSecret
    @Option(help: "Latency added to every request before it is answered, e.g. 50ms or 0.2s (per tenant: POST /_emulator/tenants/{id}/latency).")
    var latency: String = "0"
    @Flag(name: .customLong("no-throttling"), help: "Meter Graph requests (x-ms-resource-unit, usage) but never answer 429.")
    var noThrottling = false
    @Option(name: .customLong("app-resource-units"), help: "Resource units per 20 s per app across all tenants (Microsoft: 150000).")
    var appResourceUnits: Int = 150_000

    func validate() throws {
        guard ["127.0.0.1", "::1", "localhost"].contains(host) else { throw ValidationError("--host must be a loopback address") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard tenants >= 0, users >= 0, groups >= 0 else { throw ValidationError("--tenants, --users and --groups must not be negative") }
        guard EmulatorDuration.parse(latency) != nil else { throw ValidationError("--latency must look like 50ms, 1.5s or 0 (got '\(latency)')") }
        guard appResourceUnits > 0 else { throw ValidationError("--app-resource-units must be positive") }
    }

    func run() async throws {
        var logger = Logger(label: "tenantsync-emulator")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let emulator = M365Emulator(
            configuration: EmulatorConfiguration(
                host: host, port: port, tenants: tenants, usersPerTenant: users, groupsPerTenant: groups,
                seed: seed, clientID: clientID, clientSecret: clientSecret,
                tenantSettings: TenantSettings(throttlingEnabled: !noThrottling),
                latency: EmulatorDuration.parse(latency) ?? .zero,
                applicationResourceUnitsPer20Seconds: appResourceUnits),
            logger: logger)
        let announcing = AnnouncingService(emulator: emulator)
        let group = ServiceGroup(configuration: .init(
            services: [announcing], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Runs the emulator and prints its base URL once bound, so scripts can read the first line.
struct AnnouncingService: Service {
    let emulator: M365Emulator

    func run() async throws {
        try await emulator.run(onBound: { url in
            // Unbuffered, so a script reading the first line sees it at once.
            FileHandle.standardOutput.write(Data((url.absoluteString + "\n").utf8))
        })
    }
}
