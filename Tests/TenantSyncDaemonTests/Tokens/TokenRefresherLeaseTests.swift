import Foundation
import Logging
import M365Emulator
import Testing
import TestSupport
import TenantSyncCore
@testable import TenantSyncDaemon

/// The refresher in a cluster: a grant is refreshed only under its lease, held by this node.
///
/// The leases live in a ``SingleNodeLeaseStore`` over the fixture's store; another node's claim is made in it
/// directly, under another name, as a second daemon's would be made in PostgreSQL.
@Suite("Token refresher under leases")
struct TokenRefresherLeaseTests {
    static func node(_ f: TokenFixture) -> ClusterNode {
        ClusterNode(
            name: "node-a", store: SingleNodeLeaseStore(storage: f.store, now: { f.wall.now }), version: "test", startedAt: f.wall.now,
            leaseDuration: .seconds(30), logger: f.logs.logger("cluster")
        )
    }

    static func refresher(_ f: TokenFixture, leasing: ClusterNode) -> TokenRefresher {
        TokenRefresher(
            storage: f.store, granter: MicrosoftTokenGranter(client: f.client, productApp: f.productApp, accounts: f.store),
            configuration: .init(alertChannels: TokenFixture.channels), logger: f.logs.logger("refresher"), now: { f.wall.now },
            random: { 0.5 }, leasing: leasing
        )
    }

    @Test("a due grant whose lease another node holds is left to it (Microsoft sees no redemption here); once released, this node refreshes it")
    func aGrantLeasedElsewhereIsNotRefreshed() async throws {
        try await TokenFixture.run { f in
            let node = Self.node(f)
            let refresher = Self.refresher(f, leasing: node)
            let (_, grant) = try await f.delegatedGrant()
            let other = try #require(
                try await node.leaseStore.claim(kind: .tokenRefresh, keys: [String(grant.id)], node: "node-b", limit: 1, duration: .seconds(30)).first
            )
            #expect(await refresher.refreshIfDue(grantID: grant.id, onDemand: false) == false)
            #expect(try f.emulator.counters(tenant: f.tenant.id)["token.refresh_token"] ?? 0 == 0, "redeemed while node-b held the lease")
            #expect(try await f.store.tokenSnapshot(grantID: grant.id)?.generation == 1)

            try await node.leaseStore.release([other])
            #expect(await refresher.refreshIfDue(grantID: grant.id, onDemand: false) == true)
            #expect(try f.emulator.counters(tenant: f.tenant.id)["token.refresh_token"] == 1)
            #expect(try await f.store.tokenSnapshot(grantID: grant.id)?.generation == 2)
            // The refresh released its lease: node-b (or any node) may claim the grant at once.
            #expect(try await node.leaseStore.claim(kind: .tokenRefresh, keys: [String(grant.id)], node: "node-b", limit: 1, duration: .seconds(30)).count == 1)
        }
    }

    @Test("a refresh whose lease was taken over meanwhile stores nothing: the fenced write refuses its token set, and no failure is recorded")
    func aLeaseTakenOverMeanwhileStoresNothing() async throws {
        try await TokenFixture.run { f in
            let node = Self.node(f)
            let refresher = Self.refresher(f, leasing: node)
            let (_, grant) = try await f.delegatedGrant()
            // Claimed here; then, by the store's clock, the lease ends and node-b claims the grant again (a pause
            // longer than the lease: this node's own clock has not moved, so only the store can tell).
            let before = try #require(try await f.store.tokenStatus(grantID: grant.id))
            let mine = try #require(try await node.claim(kind: .tokenRefresh, keys: [String(grant.id)], limit: 1).first)
            f.wall.advance(seconds: 31)
            #expect(try await node.leaseStore.claim(kind: .tokenRefresh, keys: [String(grant.id)], node: "node-b", limit: 1, duration: .seconds(30)).count == 1)
            #expect(await refresher.refreshIfDue(grantID: grant.id, onDemand: false, lease: mine) == false)
            let snapshot = try #require(try await f.store.tokenSnapshot(grantID: grant.id))
            #expect(snapshot.generation == 1, "a token set was stored under a lost lease")
            let status = try #require(try await f.store.tokenStatus(grantID: grant.id))
            #expect(status == before, "the grant's refresh record changed: \(status), was \(before)")
            #expect(f.logs.text.contains("Token refresh abandoned: this node no longer holds the grant's lease"), "\(f.logs.text)")
        }
    }
}
