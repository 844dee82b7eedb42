import Foundation
import Logging
import PostgresNIO
import TenantSyncCore
@testable import TenantSyncPostgreSQL
import TestSupport
import Testing

/// Several daemons on one PostgreSQL database, each a `PostgreSQLStore` with its own pool: claims split the work,
/// expiry is the database's, and a node that lost its lease cannot commit over the new holder.
@Suite("Cluster leases across nodes", .serialized)
struct ClusterTakeoverTests {
    @Test func concurrentClaimsOfThreeNodesTakeEveryDueGrantExactlyOnce() async throws {
        try await ClusterNodes.with(3) { conformance, nodes in
            let grants = try await conformance.seedDueGrants(tenants: 40)
            let claims = try await withThrowingTaskGroup(of: [Lease].self) { group in
                for (index, node) in nodes.enumerated() {
                    group.addTask {
                        var mine: [Lease] = []
                        // Until a claim finds nothing free: each round takes at most 7, so the nodes' claims interleave.
                        for _ in 0..<100 {
                            let claimed = try await node.claimDueGrants(node: "node-\(index)", limit: 7, duration: .seconds(60))
                            if claimed.isEmpty { break }
                            mine += claimed
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: [Lease]()) { $0 += $1 }
            }
            let perGrant = Dictionary(grouping: claims, by: \.key).mapValues(\.count)
            #expect(claims.count == grants.count, "\(claims.count) claims for \(grants.count) due grants")
            #expect(perGrant.values.allSatisfy { $0 == 1 }, "grants claimed twice: \(perGrant.filter { $0.value > 1 }.keys.sorted())")
            #expect(Set(perGrant.keys) == Set(grants.map { String($0.id) }), "some due grants were never claimed")
            #expect(claims.allSatisfy { $0.epoch == 1 })
            let held = try await conformance.sql("SELECT count(*) FROM leases WHERE kind = 'token-refresh' AND holder IS NOT NULL")
            #expect(held == ["\(grants.count)"])
        }
    }

    @Test func aClaimPassesOverGrantsAnotherTransactionHasLockedInsteadOfWaiting() async throws {
        try await ClusterNodes.with(1) { conformance, nodes in
            let grants = try await conformance.seedDueGrants(tenants: 5)
            let locked = grants.prefix(4).map(\.id)
            guard case .postgresql(let server, let database) = conformance.raw else { return }
            // Another node's claim in flight, held open: its grant rows locked as a claim locks them.
            let holder = try await PostgresConnection.connect(
                configuration: server.settings(database: database).connectionConfiguration(), id: 99, logger: Logger(label: "test")
            )
            try await holder.query("BEGIN", logger: Logger(label: "test"))
            try await holder.query("SELECT id FROM grants WHERE id = ANY(\(locked)) FOR UPDATE", logger: Logger(label: "test"))

            let claimed = try await withThrowingTaskGroup(of: [Lease]?.self) { group in
                group.addTask { try await nodes[0].claimDueGrants(node: "node-0", limit: 100, duration: .seconds(60)) }
                group.addTask {
                    try await Task.sleep(for: .seconds(10))
                    return nil
                }
                var result = try await group.next() ?? nil
                if result == nil {
                    Issue.record("the claim waited 10 s for the locked grants instead of passing over them")
                    try await holder.query("ROLLBACK", logger: Logger(label: "test"))
                    result = try await group.next() ?? nil
                }
                group.cancelAll()
                return result ?? []
            }
            #expect(Set(claimed.map(\.key)) == Set(grants.dropFirst(4).map { String($0.id) }), "claimed \(claimed.map(\.key)), locked \(locked)")

            _ = try? await holder.query("ROLLBACK", logger: Logger(label: "test"))
            try await holder.close()
            let rest = try await nodes[0].claimDueGrants(node: "node-0", limit: 100, duration: .seconds(60))
            #expect(Set(rest.map(\.key)) == Set(locked.map(String.init)), "the grants unlocked since were not claimed")
        }
    }

    @Test func aNodeStoppedInsideATransactionHasItEndedByTheServerAndItsLockedGrantsComeFree() async throws {
        try await ClusterNodes.with(2, idleInTransactionTimeout: .seconds(2)) { conformance, nodes in
            let grants = try await conformance.seedDueGrants(tenants: 2)
            let locked = grants.prefix(3).map(\.id)
            // node-0 locks grants as a fenced token write does, then sends nothing more (a stopped process keeps its
            // connection open, and the transaction with it).
            let stopped = Task {
                try await nodes[0].transaction { connection in
                    try await connection.query("SELECT id FROM grants WHERE id = ANY(\(locked)) FOR UPDATE", logger: Logger(label: "test"))
                    try await Task.sleep(for: .seconds(120))
                }
            }
            defer { stopped.cancel() }
            let idle = "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'node-0' AND state = 'idle in transaction'"
            let idling = try await eventually(timeout: .seconds(10), "node-0's transaction is open and idle") { try await conformance.sql(idle) == ["1"] }
            try #require(idling, "node-0's transaction never sat idle")
            let first = try await nodes[1].claimDueGrants(node: "node-1", limit: 100, duration: .seconds(60))
            #expect(Set(first.map(\.key)) == Set(grants.dropFirst(3).map { String($0.id) }), "claimed \(first.map(\.key)) while \(locked) were locked")

            // The server ends node-0's session after two idle seconds; its rows come free, long before the transaction
            // would have ended by itself.
            var claimed = first
            let freed = try await eventually(timeout: .seconds(20), "the locked grants are claimed") {
                claimed += try await nodes[1].claimDueGrants(node: "node-1", limit: 100, duration: .seconds(60))
                if claimed.count == grants.count { return true }
                try await Task.sleep(for: .milliseconds(200))
                return false
            }
            #expect(freed, "the grants node-0 locked were never claimed: \(claimed.map(\.key)) of \(grants.map(\.id))")
            #expect(Set(claimed.map(\.key)) == Set(grants.map { String($0.id) }))
            #expect(try await conformance.sql(idle) == ["0"], "node-0's session still sits in its transaction")
        }
    }

    @Test func aNodeThatStopsRenewingLosesItsLeaseAndItsStaleWritesAreRefused() async throws {
        try await ClusterNodes.with(2) { conformance, nodes in
            let (a, b) = (nodes[0], nodes[1])
            let grants = try await conformance.seedDueGrants(tenants: 1)
            let (grant, other) = (grants[0], grants[1])
            let key = String(grant.id)
            let leaseA = try #require(try await a.claim(kind: .tokenRefresh, keys: [key], node: "node-a", limit: 1, duration: .seconds(2)).first)
            #expect(try await b.claimDueGrants(node: "node-b", limit: 10, duration: .seconds(30)).map(\.key) == [String(other.id)],
                    "node-b took the grant node-a holds, or missed the free one")
            let now = Date()

            // node-a stops renewing. By the database's clock its lease expires; node-a's write is refused from then on.
            let expired = try await eventually(timeout: .seconds(10), "node-a's lease expires") {
                try await conformance.sql("SELECT expires_at <= clock_timestamp() FROM leases WHERE kind = 'token-refresh' AND key = '\(key)'") == ["t"]
            }
            try #require(expired, "the database never saw node-a's 2 s lease expire")
            await #expect(throws: TenantSyncError.self, "node-a wrote under an expired lease") {
                try await a.storeRefreshedTokenSet(
                    grantID: grant.id, tokens: ConformanceStore.tokens("stale-a", now), nextRefreshAt: now, expectedGeneration: 1, at: now, under: leaseA
                )
            }

            // node-b takes it over with a higher epoch and writes; node-a's write, still under its old lease, is refused.
            let leaseB = try #require(try await b.claimDueGrants(node: "node-b", limit: 10, duration: .seconds(30)).first)
            #expect(leaseB.key == key && leaseB.holder == "node-b")
            #expect(leaseB.epoch > leaseA.epoch, "the takeover's epoch \(leaseB.epoch) is not above \(leaseA.epoch)")
            #expect(try await a.renew([leaseA], duration: .seconds(30)).lost == [leaseA], "node-a renewed a lease node-b holds")
            #expect(try await b.storeRefreshedTokenSet(
                grantID: grant.id, tokens: ConformanceStore.tokens("from-b", now), nextRefreshAt: now.addingTimeInterval(600),
                expectedGeneration: 1, at: now, under: leaseB
            ))
            await #expect(throws: TenantSyncError.self, "node-a wrote over node-b's token set") {
                try await a.storeRefreshedTokenSet(
                    grantID: grant.id, tokens: ConformanceStore.tokens("stale-a", now), nextRefreshAt: now, expectedGeneration: 2, at: now, under: leaseA
                )
            }
            #expect(try await conformance.store.tokenSet(grantID: grant.id)?.accessToken.reveal == "from-b")

            // node-b releases; node-a claims again (a new epoch): its old lease, same holder, still opens nothing.
            try await b.release([leaseB])
            let again = try #require(try await a.claim(kind: .tokenRefresh, keys: [key], node: "node-a", limit: 1, duration: .seconds(30)).first)
            #expect(again.epoch > leaseB.epoch)
            await #expect(throws: TenantSyncError.self, "node-a wrote under its lease of an earlier epoch") {
                try await a.storeRefreshedTokenSet(
                    grantID: grant.id, tokens: ConformanceStore.tokens("stale-a", now), nextRefreshAt: now, expectedGeneration: 2, at: now, under: leaseA
                )
            }
            let snapshot = try #require(try await conformance.store.tokenSnapshot(grantID: grant.id))
            #expect(snapshot.tokens?.accessToken.reveal == "from-b", "a stale write reached the row")
            #expect(snapshot.generation == 2)
            #expect(try await a.storeRefreshedTokenSet(
                grantID: grant.id, tokens: ConformanceStore.tokens("from-a", now), nextRefreshAt: now, expectedGeneration: 2, at: now, under: again
            ))
        }
    }

    @Test func heartbeatsAndReleasesAreSeenByEveryNode() async throws {
        try await ClusterNodes.with(2) { conformance, nodes in
            let (a, b) = (nodes[0], nodes[1])
            _ = try await conformance.seedDueGrants(tenants: 2)
            try await a.announceNode(name: "node-a", version: "1.0", startedAt: Date())
            try await b.announceNode(name: "node-b", version: "1.0", startedAt: Date())
            let held = try await a.claimDueGrants(node: "node-a", limit: 10, duration: .seconds(60))
            #expect(held.count == 4)
            #expect(try await b.nodes().map { $0.leasesHeld[.tokenRefresh] ?? 0 } == [4, 0])

            // node-a fell silent an hour ago (by the database's clock); its heartbeat brings it back.
            try await conformance.sql("UPDATE nodes SET last_heartbeat_at = clock_timestamp() - interval '1 hour' WHERE name = 'node-a'")
            #expect(try await b.nodes().first?.silentFor ?? .zero >= .seconds(3600))
            try await a.heartbeat(node: "node-a")
            #expect(try await b.nodes().first?.silentFor ?? .seconds(3600) < .seconds(60), "the heartbeat did not reach the nodes listing")

            // A release frees the grants at once for the other node: no waiting for the 60 s lease to run out.
            try await a.release(held)
            let taken = try await b.claimDueGrants(node: "node-b", limit: 10, duration: .seconds(60))
            #expect(Set(taken.map(\.key)) == Set(held.map(\.key)))
            #expect(taken.allSatisfy { $0.epoch == 2 })
            #expect(try await a.nodes().map { $0.leasesHeld[.tokenRefresh] ?? 0 } == [0, 4])
        }
    }
}
