import Credentials
import Foundation
import Logging
import TenantSyncConfig
import TenantSyncCore
import TenantSyncPostgreSQL
import TenantSyncStore

extension Daemon {
    /// Opens the store `[database]` names (SQLite in the state directory when it names none), runs `body`
    /// with it, then closes it, however `body` ends.
    ///
    /// The only place the daemon names a store type. The sealing key is read first, the same way for
    /// both stores: the `tenantsync.key` credential, or `[daemon] key_file`.
    func withStore<R>(in directory: StateDirectory, _ body: (any DaemonStorage) async throws -> R) async throws -> R {
        let keyLocation = SecretKeyFile.location(configured: configuration.daemon.keyFile, environment: environment)
        let sealer = try SecretSealer(keyBytes: SecretKeyFile.loadOrCreate(path: keyLocation.path, mayCreate: keyLocation.mayCreate))
        guard let url = configuration.database.url else {
            let store = try SQLiteStore(path: directory.file(SQLiteStore.fileName), sealer: sealer, logger: logger)
            return try await Self.using(store, body)
        }
        let store = PostgreSQLStore(settings: Self.postgreSQLSettings(url, configuration), sealer: sealer, logger: logger)
        // The pool runs for the daemon's whole life: from before `prepare()` until the store is closed after the
        // services stopped; leaving the group cancels it, however `body` ended.
        return try await withThrowingTaskGroup(of: Void.self, returning: R.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            // Connects, migrates, and checks the key before anything else is written (exit 69 or 77 when it cannot).
            try await store.prepare()
            // One daemon per node name on the database: leases name their holder by it (exit 75 for a second one).
            try await store.claimNodeName(configuration.daemon.nodeName)
            return try await Self.using(store, body)
        }
    }

    /// The PostgreSQL store's settings from `[database]` and the node's name.
    ///
    /// A transaction left idle for a lease duration is ended by the server: a node stopped mid-transaction frees the
    /// rows it locked by the time its leases have ended (they were claimed or renewed before its last statement), so
    /// the others take its work over as they would a dead node's.
    static func postgreSQLSettings(_ url: PostgreSQLURL, _ configuration: DaemonConfiguration) -> PostgreSQLStoreSettings {
        let tls: PostgreSQLTLSMode = switch configuration.database.tls {
        case .verifyFull: .verifyFull
        case .require: .require
        case .disable: .disable
        }
        return PostgreSQLStoreSettings(
            host: url.host, port: url.port, user: url.user, database: url.database, password: configuration.database.password, tls: tls,
            caFile: configuration.database.caFile, applicationName: configuration.daemon.nodeName,
            idleInTransactionTimeout: configuration.cluster.leaseDuration
        )
    }

    /// The daemon's PostgreSQL settings without the idle-in-transaction bound: the copy is one transaction that reads
    /// each SQLite table between its statements, and no daemon runs or waits on it.
    static func stateCopySettings(_ url: PostgreSQLURL, _ configuration: DaemonConfiguration) -> PostgreSQLStoreSettings {
        var settings = postgreSQLSettings(url, configuration)
        settings.idleInTransactionTimeout = nil
        return settings
    }

    /// Runs `body` with an open store and closes the store afterwards; an error of `body` wins over one of `close`.
    private static func using<R>(_ store: any DaemonStorage, _ body: (any DaemonStorage) async throws -> R) async throws -> R {
        let result: Result<R, any Error>
        do {
            result = .success(try await body(store))
        } catch {
            result = .failure(error)
        }
        do {
            try await store.close()
        } catch {
            if case .success = result { throw error }
        }
        return try result.get()
    }
}
