import Foundation
import PostgresNIO
import TenantSyncCore

extension PostgreSQLStore: StoreLifecycle {
    public func schemaVersion() async throws -> Int {
        try await read { connection in
            try await Self.one(connection.query("SELECT coalesce(max(version), 0) FROM schema_migrations", logger: logger), Int.self) ?? 0
        }
    }

    public func ping() async throws {
        try await read { connection in
            _ = try await Self.one(connection.query("SELECT 1", logger: logger), Int.self)
        }
    }

    /// Refuses every later call, stops the pool (``run()`` returns) and ends the sole-node lock's session.
    public func close() async throws {
        let nodeName = state.takeNodeNameConnection()
        state.close()
        try? await nodeName?.close()
    }

    /// Commits a one-row write: throws when the database does not take writes (read-only, out of space, gone).
    public func probeWrite(at date: Date) async throws {
        try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO store_write_probe (id, probed_at) VALUES (1, \(StoredDate.bound(date)))
                ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at
                """,
                logger: logger
            )
        }
    }
}
