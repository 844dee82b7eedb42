import Credentials
import AsyncHTTPClient
import Foundation
import Logging
import MicrosoftCloud
import TenantSyncConfig
import TenantSyncCore
import TenantSyncDaemon
import TenantSyncStore

/// `tenantsync-bench fleet-seed`: writes the fleet benchmark's state into a daemon's state directory, then
/// counts the statements of one daily planning pass of the real `SyncScheduler` on it.
///
/// The state is written by the store itself (``SQLiteStore/seedFleet(_:)``): the daemon's database file and
/// key file, so a real `tenantsyncd` with the same config starts on it afterwards (Benchmarks/fleet.py does).
/// The planning pass runs in this process on the same file, with the settings the config file gives: the
/// scheduler's `plan(now:)` is what the daily loop runs once a minute, and its only database work.
enum FleetCommand {
    struct Result: Encodable {
        var tenants: Int
        var counts: FleetSeed.Counts
        var seedSeconds: Double
        var databaseBytes: Int
        /// Statements of one read of one query (`SELECT 1`): GRDB wraps each read in its own statements.
        var oneQueryStatements: Int
        var planStatements: Int
        var planSeconds: Double
        var planDue: Int
        var planNextInSeconds: Double?
        var peakRSSKiB: Int
    }

    static func run(_ arguments: Arguments) async throws {
        let configPath = try arguments.value("--config")
        guard let tenants = Int(try arguments.value("--tenants")), tenants > 0 else { throw BenchError("--tenants must be a positive number") }
        var logger = Logger(label: "tenantsync-bench")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning

        // The daemon's own configuration: the same state directory, key file and daily window.
        let configuration = try ConfigurationLoader(environment: [:]).load(path: configPath)
        let directory = configuration.daemon.stateDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let keyBytes = try SecretKeyFile.loadOrCreate(path: configuration.daemon.keyFile, mayCreate: true)
        let databasePath = directory + "/" + SQLiteStore.fileName
        let store = try SQLiteStore(path: databasePath, sealer: SecretSealer(keyBytes: keyBytes), logger: logger)

        let clock = ContinuousClock()
        let seedStart = clock.now
        let counts = try await store.seedFleet(FleetSeed(tenants: tenants, now: Date()))
        let seedSeconds = (clock.now - seedStart).seconds

        let settings = RuntimeSettings(configuration)
        let synchronizer = DirectorySynchronizer(
            store: store, graph: GraphClient(graphRoot: configuration.microsoft.graph, http: HTTPClient.shared, logger: logger),
            tokens: ClientCredentialsTokenSource(baseURL: configuration.microsoft.authority, clientID: "unused", clientSecret: "unused"),
            settings: .init(massDeletionThreshold: configuration.sync.massDeletionThreshold), logger: logger
        )
        let scheduler = SyncScheduler(
            coordinator: SyncCoordinator(), synchronizer: synchronizer, store: store, settings: settings, heartbeat: Heartbeat(), logger: logger
        )
        // Warm-up, so a reader connection opened lazily is not counted; then one read of one query as the unit.
        _ = try await scheduler.plan(now: Date())
        try await store.ping()
        var before = store.statements.value
        try await store.ping()
        let oneQuery = store.statements.value - before

        before = store.statements.value
        let planStart = clock.now
        let now = Date()
        let plan = try await scheduler.plan(now: now)
        let planSeconds = (clock.now - planStart).seconds
        let planStatements = store.statements.value - before
        try store.close()

        let size = (try? FileManager.default.attributesOfItem(atPath: databasePath)[.size] as? Int) ?? -1
        let result = Result(
            tenants: tenants, counts: counts, seedSeconds: seedSeconds, databaseBytes: size, oneQueryStatements: oneQuery,
            planStatements: planStatements, planSeconds: planSeconds, planDue: plan.due.count,
            planNextInSeconds: plan.next.map { $0.timeIntervalSince(now) }, peakRSSKiB: ProcessMeasure.peakRSSKiB()
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
    }
}
