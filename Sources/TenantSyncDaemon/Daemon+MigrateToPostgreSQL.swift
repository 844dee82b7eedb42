import Credentials
import Foundation
import TenantSyncCore
import TenantSyncPostgreSQL
import TenantSyncStore

/// `tenantsyncd --migrate-to-postgresql URL`: the SQLite state copied into an empty PostgreSQL database.
///
/// Here, in the composition root, because the copy needs both stores and neither adapter may import the other: the
/// SQLite store reads its tables as ``StoreTableSnapshot``s (TenantSyncCore), the PostgreSQL store writes them
/// (`PostgreSQLStore.importState`); this file only opens both, checks what must hold before anything is written, and
/// hands one's tables to the other.
extension Daemon {
    /// Copies the state directory's SQLite database into the database `[database] url` names (the command line's URL,
    /// through `ConfigurationLoader.databaseURLOverride`) and returns the report, one line each.
    ///
    /// Takes the state directory's lock first, so a daemon running on that state makes it refuse (reason `locked`).
    /// The key must open every sealed secret of the state before the target is touched; the target is then prepared
    /// as at a start (migrations, the key's check value: a key that is not the database's is refused) and must hold
    /// no data. The copy is one transaction: committed only once counts and secrets are verified.
    public func migrateToPostgreSQL() async throws -> [String] {
        guard let url = configuration.database.url else {
            throw TenantSyncError(.invalidConfiguration, "No PostgreSQL database to copy the state into.")
        }
        let directoryPath = configuration.daemon.stateDirectory
        let databasePath = directoryPath + "/" + SQLiteStore.fileName
        guard FileManager.default.fileExists(atPath: databasePath) else {
            throw TenantSyncError(
                .storeUnavailable,
                "There is no SQLite state to copy: \(databasePath) does not exist (check [daemon] state_directory).",
                context: ["reason": "no-state", "store.path": databasePath]
            )
        }
        let stateDirectory = try StateDirectory(path: directoryPath)
        defer { withExtendedLifetime(stateDirectory) {} }

        // Never a new key here: one made now could open nothing of the state.
        let keyLocation = SecretKeyFile.location(configured: configuration.daemon.keyFile, environment: environment)
        guard FileManager.default.fileExists(atPath: keyLocation.path) else {
            throw TenantSyncError(
                .secretKeyUnavailable,
                "The sealing key \(keyLocation.path) does not exist: the state's secrets cannot be opened without the key that sealed them.",
                context: ["reason": "missing", "key.path": keyLocation.path]
            )
        }
        let sealer = try SecretSealer(keyBytes: SecretKeyFile.loadOrCreate(path: keyLocation.path, mayCreate: keyLocation.mayCreate))

        let source = try SQLiteStore(path: databasePath, sealer: sealer, logger: logger)
        defer { try? source.close() }
        let sourceTables = Set(try await source.tableNames()).subtracting(PostgreSQLStore.tablesNotImported)
        let unknown = sourceTables.subtracting(PostgreSQLStore.importedTables).sorted()
        guard unknown.isEmpty else {
            throw TenantSyncError(
                .storeUnavailable,
                "The SQLite state has tables this tenantsyncd cannot copy (\(unknown.joined(separator: ", "))); it was written by a newer tenantsync. Nothing was written.",
                context: ["reason": "schema-mismatch"]
            )
        }
        let secrets = try await source.sealedSecretsNotOpening()
        guard secrets.failing.isEmpty else {
            throw TenantSyncError(
                .secretKeyUnavailable,
                "\(secrets.failing.count) of the \(secrets.checked) sealed secrets of the SQLite state do not open with the key \(keyLocation.path) "
                    + "(the first at \(secrets.failing[0])): give the key that sealed them, or renew those accounts first. Nothing was written.",
                context: ["reason": "key-mismatch", "key.path": keyLocation.path]
            )
        }

        let target = PostgreSQLStore(settings: Self.stateCopySettings(url, configuration), sealer: sealer, logger: logger)
        let imported = try await withThrowingTaskGroup(of: Void.self, returning: PostgreSQLStore.StateImport.self) { group in
            group.addTask { await target.run() }
            defer { group.cancelAll() }
            let result: Result<PostgreSQLStore.StateImport, any Error>
            do {
                // Migrations and the key's check value, as at a start (exit 69 or 77 when it cannot).
                try await target.prepare()
                result = .success(try await target.importState { table in try await source.snapshot(of: table) })
            } catch {
                result = .failure(error)
            }
            try? await target.close()
            return try result.get()
        }
        var lines = ["Copied \(databasePath) into \(url) (one transaction, committed):"]
        let width = imported.tables.map(\.table.count).max() ?? 0
        for table in imported.tables {
            let padding = String(repeating: " ", count: width - table.table.count)
            let next = table.nextID.map { ", next id \($0)" } ?? ""
            lines.append("  \(table.table)\(padding)  \(table.rows) row\(table.rows == 1 ? "" : "s")\(next)")
        }
        lines.append("Row counts match the SQLite state; \(imported.secretsOpened) sealed secrets open in PostgreSQL with this key.")
        lines.append("Set [database] url = \"\(url)\" to run tenantsyncd on it; keep \(databasePath) until it does.")
        return lines
    }
}
