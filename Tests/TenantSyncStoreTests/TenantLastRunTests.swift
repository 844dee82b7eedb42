import Credentials
import Foundation
import GRDB
import Logging
import Migrations
import Testing
import TenantSyncCore
@testable import TenantSyncStore

/// The daily plan reads each tenant's newest run start from the tenant row (schema version 10), kept by a trigger.
///
/// Found by the fleet benchmark: with 300,000 runs at 10,000 tenants, looking the newest start up among the runs
/// cost an index seek per tenant into the runs' whole history, on every planning pass and every `status`.
@Suite("Tenants keep their newest run start")
struct TenantLastRunTests {
    @Test func thePlanningQueryReadsTenantsAndAccountsButNoRun() throws {
        let fixture = try StoreFixture()
        for onlyOne in [false, true] {
            let details = try fixture.store.pool.blocking.read { db in
                try Row.fetchAll(
                    db, sql: "EXPLAIN QUERY PLAN " + SQLiteStore.scheduledTenantsSQL(onlyOne: onlyOne),
                    arguments: ["directoryServices": SQLiteStore.directoryServicesJSON, "tenant": "t"]
                ).map { $0["detail"] as String }
            }
            #expect(details.contains { $0.contains("service_accounts") }, "plan: \(details)")
            #expect(!details.contains { $0.contains("sync_runs") }, "the planning query reads the runs again: \(details)")
        }
    }

    @Test func anUpgradeFillsTheNewestStartOfEveryTenant() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.sqlite")
        let pool = try DatabasePool(path: path)
        var migrator = SchemaMigrator(pool: pool, path: path, logger: Logger(label: "test"))
        migrator.migrations = SchemaMigrations.all.filter { $0.version < 10 }
        try migrator.migrate()
        try await pool.write { db in
            for (tenant, starts) in [("a", ["2026-01-02T00:00:00.000Z", "2026-01-05T00:00:00.000Z", "2026-01-03T00:00:00.000Z"]), ("b", [])] {
                let id = "00000000-0000-0000-0000-00000000000\(tenant == "a" ? 1 : 2)"
                try db.execute(
                    sql: "INSERT INTO tenants (id, domain, created_at, updated_at) VALUES (?, ?, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')",
                    arguments: [id, "\(tenant).example"]
                )
                try db.execute(
                    sql: """
                        INSERT INTO service_accounts (tenant_id, service, state, created_at, updated_at)
                        VALUES (?, 'sharepoint-online', 'active', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')
                        """,
                    arguments: [id]
                )
                for start in starts {
                    try db.execute(
                        sql: "INSERT INTO sync_runs (tenant_id, trigger, mode, state, started_at) VALUES (?, 'daily', 'delta', 'succeeded', ?)",
                        arguments: [id, start]
                    )
                }
            }
        }
        try pool.close()
        let store = try SQLiteStore(path: path, sealer: SecretSealer(keyBytes: StoreFixture.key), logger: Logger(label: "test"))
        let scheduled = try await store.scheduledTenants(onlyTenantID: nil)
        #expect(scheduled.map(\.domain) == ["a.example", "b.example"])
        #expect(scheduled.map(\.lastRunStartedAt) == [Date(timeIntervalSince1970: 1_767_571_200), nil], "2026-01-05 for a, never for b")
    }
}
