import Foundation
import Logging
import ServiceLifecycle
import Systemd
import TenantSyncConfig
import TenantSyncCore
import TenantSyncStore

/// The tenantsync daemon: opens its state, then runs every long-lived service in one `ServiceGroup`.
public struct Daemon: Sendable {
    public var configurationPath: String?
    public var configuration: DaemonConfiguration
    public var environment: [String: String]
    public var logger: Logger

    public init(configurationPath: String?, configuration: DaemonConfiguration, environment: [String: String], logger: Logger) {
        self.configurationPath = configurationPath
        self.configuration = configuration
        self.environment = environment
        self.logger = logger
    }

    /// Opens the state directory, the key and the database, in that order.
    ///
    /// One-shot start-up work runs here, before any service starts; every failure
    /// is a `TenantSyncError` whose message is the one line the operator sees.
    public func openState() throws -> (StateDirectory, SQLiteStore) {
        let directory = try StateDirectory(path: configuration.daemon.stateDirectory)
        let keyLocation = SecretKeyFile.location(configured: configuration.daemon.keyFile, environment: environment)
        let sealer = try SecretSealer(keyBytes: SecretKeyFile.loadOrCreate(path: keyLocation.path, mayCreate: keyLocation.mayCreate))
        let store = try SQLiteStore(path: directory.file(SQLiteStore.fileName), sealer: sealer, logger: logger)
        return (directory, store)
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully within the configured bound.
    public func run() async throws {
        let notifier = SystemdNotifier()
        let (stateDirectory, store) = try openState()
        let settings = RuntimeSettings(configuration)
        let reloader = ConfigurationReloader(
            path: configurationPath, loader: ConfigurationLoader(environment: environment), settings: settings,
            notifier: notifier, logger: logger
        )
        let schemaVersion = try store.schemaVersion()
        let announcer = ReadinessAnnouncer(
            notifier: notifier, logger: logger,
            metadata: [
                "daemon.version": "\(TenantSyncVersion.current)",
                "daemon.state_directory": "\(stateDirectory.path)",
                "store.schema_version": "\(schemaVersion)",
                "config.file": "\(configuration.sourceFile)",
            ]
        )
        let services: [any Service] = [announcer, reloader]
        var groupConfiguration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = configuration.daemon.shutdownTimeout
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: groupConfiguration)
        try await group.run()
        try store.close()
        logger.info("tenantsyncd stopped")
        withExtendedLifetime(stateDirectory) {}
    }
}
