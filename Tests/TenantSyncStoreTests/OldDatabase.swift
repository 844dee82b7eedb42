import GRDB
import Logging
import Migrations
@testable import TenantSyncStore

/// A database as an older version left it: migrated to the first `stop` migrations, with one tenant row
/// (`old.example`), closed.
enum OldDatabase {
    static func create(at path: String, migratedTo stop: Int) async throws {
        let pool = try DatabasePool(path: path)
        var migrator = SchemaMigrator(pool: pool, path: path, logger: Logger(label: "test"))
        migrator.migrations = Array(SchemaMigrations.all.prefix(stop))
        try migrator.migrate()
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO tenants (id, domain, created_at, updated_at)
                VALUES ('00000000-0000-0000-0000-000000000001', 'old.example', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')
                """)
        }
        try pool.close()
    }
}
