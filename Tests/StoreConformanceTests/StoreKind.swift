import Credentials
import Foundation
import Logging
import TenantSyncCore
import TenantSyncPostgreSQL
import TenantSyncStore
import TestSupport
import Testing

/// Everything the daemon sees of a store.
typealias AnyStore = any TenantSyncStorage & TokenLifecycleStore & CredentialExpiryStore & MetricsStateSource & StoreLifecycle

/// The two stores the conformance tests run against: the same test, unchanged, on each.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgresql

    var testDescription: String { rawValue }

    static let key: [UInt8] = (0..<32).map { UInt8($0 * 7 % 251) }

    /// Runs `body` with a fresh, empty store of this kind (a new file, or a new database on the private server),
    /// closed afterwards. The PostgreSQL store's pool runs in a child task for the duration.
    func withStore<Result: Sendable>(_ body: (ConformanceStore) async throws -> Result) async throws -> Result {
        let sealer = try SecretSealer(keyBytes: Self.key)
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let store = try SQLiteStore(path: directory + "/" + SQLiteStore.fileName, sealer: sealer, logger: Logger(label: "test"))
            let result = try await body(ConformanceStore(kind: self, store: store, raw: .sqlite(store)))
            try store.close()
            return result
        case .postgresql:
            let server = try await PostgreSQLServer.shared()
            let database = try await server.createDatabase()
            let store = PostgreSQLStore(settings: server.settings(database: database), sealer: sealer, logger: Logger(label: "test"))
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await store.run() }
                defer { group.cancelAll() }
                try await store.prepare()
                let result = try await body(ConformanceStore(kind: self, store: store, raw: .postgresql(server, database)))
                try await store.close()
                return result
            }
        }
    }
}

extension PostgreSQLServer {
    /// Settings for one of this server's databases; plain TCP on loopback unless `tls` says otherwise.
    func settings(database: String, tls: PostgreSQLTLSMode = .disable, host: String? = nil, password: String? = nil) -> PostgreSQLStoreSettings {
        PostgreSQLStoreSettings(
            host: host ?? self.host, port: port, user: user, database: database, password: Secret(password ?? self.password),
            tls: tls, caFile: tls == .verifyFull ? caFile : nil, applicationName: "conformance-test", connectTimeout: .seconds(5)
        )
    }
}
