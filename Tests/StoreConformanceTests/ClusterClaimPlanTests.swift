import Foundation
import Logging
import PostgresNIO
@testable import TenantSyncPostgreSQL
import TestSupport
import Testing

/// The due-grant claim at the size of a fleet (PostgreSQL only: a single SQLite node claims nothing in the database).
@Suite("Cluster: the due-grant claim at scale")
struct ClusterClaimPlanTests {
    @Test("With 3,000 grants due at one instant, a claim walks the next-refresh index to its limit and looks leases up by key: no scan of every token set, no per-grant scan of the held leases")
    func claimReadsOnlyWhatItClaims() async throws {
        try await StoreKind.postgresql.withStore { conformance in
            guard case .postgresql(let server, let database) = conformance.raw else { preconditionFailure("a PostgreSQL store") }
            // Every grant due at the same instant (after an outage, a migration), 40 of them held by another node.
            _ = try await server.psql(
                database: database,
                """
                INSERT INTO tenants (id, domain, created_at, updated_at)
                    SELECT 'tenant-' || i, 'tenant-' || i || '.example', now(), now() FROM generate_series(1, 1000) i;
                INSERT INTO service_accounts (tenant_id, service, state, created_at, updated_at)
                    SELECT id, 'sharepoint-online', 'active', now(), now() FROM tenants;
                INSERT INTO grants (account_id, name, resource, flow, state, created_at, updated_at)
                    SELECT a.id, 'graph-' || n, 'https://graph.microsoft.com/.default', 'delegated', 'valid', now(), now()
                    FROM service_accounts a, generate_series(1, 3) n;
                INSERT INTO token_sets (grant_id, access_token_sealed, obtained_at, expires_at, next_refresh_at)
                    SELECT id, '\\x00', now(), now() + interval '1 hour', date_trunc('minute', now()) - interval '1 minute' FROM grants;
                INSERT INTO leases (kind, key, holder, epoch, expires_at)
                    SELECT 'token-refresh', id::text, 'node-b', 1, now() + interval '1 hour' FROM grants ORDER BY id LIMIT 40;
                ANALYZE;
                """
            )
            let store = try #require(conformance.store as? PostgreSQLStore)
            let query = PostgreSQLStore.claimDueGrantsQuery(node: "node-a", limit: 32, milliseconds: 30_000)
            let plan = try await store.transaction { connection in
                var lines: [String] = []
                for try await line in try await connection.query(PostgresQuery(unsafeSQL: "EXPLAIN " + query.sql, binds: query.binds), logger: Logger(label: "test"))
                    .decode(String.self) {
                    lines.append(line)
                }
                return lines.joined(separator: "\n")
            }
            #expect(plan.contains("token_sets_by_next_refresh"), "the claim does not walk the next-refresh index:\n\(plan)")
            #expect(!plan.contains("Seq Scan on token_sets"), "the claim reads every token set:\n\(plan)")
            #expect(!plan.contains("SubPlan"), "the claim runs a subquery per token set:\n\(plan)")

            let claimed = try await store.claimDueGrants(node: "node-a", limit: 32, duration: .seconds(30))
            let held = Set(try await server.psql(database: database, "SELECT key FROM leases WHERE holder = 'node-b'").split(separator: "\n").map(String.init))
            #expect(claimed.count == 32, "claimed \(claimed.count) of 2,960 free due grants with a limit of 32")
            #expect(claimed.allSatisfy { !held.contains($0.key) && $0.holder == "node-a" }, "a grant another node holds was claimed")
        }
    }
}
