import Credentials
import AsyncHTTPClient
import Foundation
import Logging
import Synchronization
import MicrosoftCloud
import TenantSyncCore
import TenantSyncDaemon
import TenantSyncStore

/// `tenantsync-bench sync full|delta`: one directory sync of one tenant, measured in this process.
///
/// The driver starts a fresh process per repetition, so the peak RSS (VmHWM) and the CPU time
/// (getrusage) printed here are those of this one sync plus the process's own start-up, and
/// nothing of earlier repetitions.
enum SyncCommand {
    struct Result: Encodable {
        var mode: String
        var seconds: Double
        var users: Int
        var groups: Int
        var memberships: Int
        var pages: Int
        var changes: DirectoryChangeCounts
        var cpuSeconds: Double
        var peakRSSKiB: Int
        var state: String
        var error: String?
        /// Seconds from the start at which each phase reported its last progress (users, groups, memberships, done).
        var phaseEnds: [String: Double]
    }

    static func run(_ arguments: Arguments) async throws {
        let mode = try arguments.positional(1, "full|delta")
        guard mode == "full" || mode == "delta" else { throw BenchError("sync mode must be full or delta, not \(mode)") }
        let url = try arguments.value("--url")
        let tenant = try arguments.value("--tenant")
        let databasePath = try arguments.value("--db")

        var logger = Logger(label: "tenantsync-bench")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        let store = try SQLiteStore(
            path: databasePath, sealer: SecretSealer(keyBytes: Array(repeating: 9, count: 32)), logger: logger
        )
        try await store.upsertTenant(id: tenant, domain: tenant, displayName: tenant)
        let tokens = ClientCredentialsTokenSource(
            baseURL: url, clientID: arguments.optional("--client-id") ?? "5f1e2c3a-7b4d-4e8f-9a0b-1c2d3e4f5a6b",
            clientSecret: arguments.optional("--client-secret") ?? "emulator-client-secret"
        )
        // The daemon's own kind of client (no tracer).
        let http = MicrosoftHTTPClient.make()
        let synchronizer = DirectorySynchronizer(
            store: store,
            graph: GraphClient(graphRoot: url, http: http, requestTimeout: .seconds(60), logger: logger),
            tokens: tokens,
            // The benchmark measures speed, not the guard: a delta never removes 100%.
            settings: .init(massDeletionThreshold: 1.0),
            logger: logger
        )

        let clock = ContinuousClock()
        let started = clock.now
        let phases = Mutex<[String: Double]>([:])
        let run: SyncRun
        do {
            run = try await synchronizer.run(tenantID: tenant, service: nil, trigger: .manual, forceFull: mode == "full") { progress in
                let at = (clock.now - started).seconds
                phases.withLock { $0[progress.phase] = at }
            }
        } catch {
            try? await http.shutdown()
            throw error
        }
        let elapsed = clock.now - started
        try? await http.shutdown()
        // The sync's own figures, taken before the verification below loads every membership into memory.
        let cpuSeconds = ProcessMeasure.cpuSeconds()
        let peakRSSKiB = ProcessMeasure.peakRSSKiB()

        let users = try await store.directoryUserIDs(tenantID: tenant).count
        let groups = try await store.directoryGroupIDs(tenantID: tenant).count
        let memberships = try await store.groupMemberships(tenantID: tenant).count
        let result = Result(
            mode: run.mode.rawValue, seconds: elapsed.seconds, users: users, groups: groups, memberships: memberships,
            pages: run.pages, changes: run.counts, cpuSeconds: cpuSeconds, peakRSSKiB: peakRSSKiB,
            state: run.state.rawValue, error: run.error, phaseEnds: phases.withLock { $0 }
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
        try store.close()
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
