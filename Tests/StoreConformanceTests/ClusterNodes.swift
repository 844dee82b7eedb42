import Credentials
import Foundation
import Logging
import TenantSyncCore
import TenantSyncPostgreSQL
import TestSupport

/// The lease store of a conformance store: the PostgreSQL store itself, or for SQLite the single-node lease store
/// over it (one per test: its leases live in memory).
extension ConformanceStore {
    func makeLeaseStore() -> any LeaseStore {
        switch raw {
        case .sqlite(let store): SingleNodeLeaseStore(storage: store)
        case .postgresql: store as! PostgreSQLStore
        }
    }

    /// `count` tenants with one Exchange Online account each; every grant's tokens due a minute ago.
    func seedDueGrants(tenants count: Int) async throws -> [Grant] {
        var grants: [Grant] = []
        let past = Date().addingTimeInterval(-60)
        for index in 0..<count {
            let (_, _, ews, graph) = try await seedExchangeAccount(domain: "tenant\(index).example")
            for grant in [ews, graph] {
                try await store.storeTokenSet(grantID: grant.id, tokens: Self.tokens("access-\(grant.id)", past), nextRefreshAt: past)
                grants.append(grant)
            }
        }
        return grants
    }

    static func tokens(_ access: String, _ at: Date) -> TokenSet {
        TokenSet(accessToken: Secret(access), refreshToken: Secret("refresh-" + access), scopes: ["s"], obtainedAt: at, expiresAt: at.addingTimeInterval(3600))
    }
}

/// Several daemons on one database: each node a `PostgreSQLStore` with its own connection pool.
enum ClusterNodes {
    /// Runs `body` with a fresh database (seeded through `conformance`) and `count` more stores on it, named
    /// `node-0`, `node-1`, … in `pg_stat_activity`.
    static func with<Result: Sendable>(
        _ count: Int, idleInTransactionTimeout: Duration? = nil, _ body: (ConformanceStore, [PostgreSQLStore]) async throws -> Result
    ) async throws -> Result {
        try await StoreKind.postgresql.withStore { conformance in
            guard case .postgresql(let server, let database) = conformance.raw else { preconditionFailure("a PostgreSQL store") }
            let sealer = try SecretSealer(keyBytes: StoreKind.key)
            let nodes = (0..<count).map { index in
                var settings = server.settings(database: database)
                settings.applicationName = "node-\(index)"
                settings.idleInTransactionTimeout = idleInTransactionTimeout
                return PostgreSQLStore(settings: settings, sealer: sealer, logger: Logger(label: "test"))
            }
            return try await withThrowingTaskGroup(of: Void.self) { group in
                for node in nodes { group.addTask { await node.run() } }
                defer { group.cancelAll() }
                for node in nodes { try await node.prepare() }
                let result = try await body(conformance, nodes)
                for node in nodes { try await node.close() }
                return result
            }
        }
    }
}
