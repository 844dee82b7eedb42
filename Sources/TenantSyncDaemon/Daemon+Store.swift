import Credentials
import Foundation
import Logging
import TenantSyncConfig
import TenantSyncCore
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
        guard configuration.database.url == nil else {
            throw TenantSyncError(.invalidConfiguration, "This build of tenantsyncd has no PostgreSQL store yet; remove [database] url.")
        }
        let store = try SQLiteStore(path: directory.file(SQLiteStore.fileName), sealer: sealer, logger: logger)
        return try await Self.using(store, body)
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
