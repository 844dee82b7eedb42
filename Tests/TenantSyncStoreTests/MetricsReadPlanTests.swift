import GRDB
import Testing
@testable import TenantSyncStore

/// The metrics endpoint reads every grant and tenant on each scrape; its queries must read indexes, not the tables'
/// rows. Found by the fleet benchmark: at 10,000 tenants the token rows alone (sealed tokens, about two kilobytes
/// each) were about 80 MiB of pages per scrape.
@Suite("The metrics read's query plans")
struct MetricsReadPlanTests {
    func plan(_ sql: String) throws -> [String] {
        let fixture = try StoreFixture()
        return try fixture.store.pool.blocking.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: ["directoryServices": SQLiteStore.directoryServicesJSON])
                .map { $0["detail"] as String }
        }
    }

    @Test func grantsAreReadWithTheirScheduleFromAnIndexNotTheTokenRows() throws {
        let details = try plan(SQLiteStore.metricsGrantsSQL)
        #expect(details.contains { $0.contains("COVERING INDEX token_sets_schedule") }, "plan: \(details)")
        #expect(!details.contains { $0.contains("ts USING INTEGER PRIMARY KEY") }, "the token rows are read: \(details)")
    }

    @Test func eachTenantsNewestSuccessIsOneSeekIntoTheSuccessfulRuns() throws {
        let details = try plan(SQLiteStore.metricsTenantsSQL)
        #expect(details.contains { $0.contains("sync_runs_succeeded_by_tenant") }, "plan: \(details)")
    }
}
