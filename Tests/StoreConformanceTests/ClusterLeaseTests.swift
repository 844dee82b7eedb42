import Foundation
import TenantSyncCore
import Testing

/// What the lease store promises a single node, on both stores (SQLite: ``SingleNodeLeaseStore``, leases in memory).
@Suite("Cluster leases on one node")
struct ClusterLeaseTests {
    @Test("A claim takes each due grant once with a new epoch; a release frees it at once", arguments: StoreKind.allCases)
    func claimAndRelease(kind: StoreKind) async throws {
        try await kind.withStore { conformance in
            let leases = conformance.makeLeaseStore()
            let grants = try await conformance.seedDueGrants(tenants: 3)
            try await leases.announceNode(name: "node-a", version: "1.0", startedAt: Date())

            let first = try await leases.claimDueGrants(node: "node-a", limit: 4, duration: .seconds(30))
            #expect(first.count == 4, "claimed \(first.count) of 6 due grants with a limit of 4")
            let rest = try await leases.claimDueGrants(node: "node-a", limit: 10, duration: .seconds(30))
            #expect(Set((first + rest).map(\.key)) == Set(grants.map { String($0.id) }), "not every due grant was claimed once")
            #expect((first + rest).allSatisfy { $0.epoch == 1 && $0.holder == "node-a" && $0.kind == .tokenRefresh })
            #expect(try await leases.claimDueGrants(node: "node-a", limit: 10, duration: .seconds(30)).isEmpty, "a held grant was claimed again")

            try await leases.release(Array(first.prefix(2)))
            let again = try await leases.claimDueGrants(node: "node-a", limit: 10, duration: .seconds(30))
            #expect(Set(again.map(\.key)) == Set(first.prefix(2).map(\.key)), "the released grants were not free at once")
            #expect(again.allSatisfy { $0.epoch == 2 }, "a new claim did not raise the epoch: \(again.map(\.epoch))")

            // The generic claim: given keys, whoever decided they are due.
            let tenants = try await conformance.store.tenants().map(\.id)
            let syncs = try await leases.claim(kind: .sync, keys: tenants, node: "node-a", limit: 2, duration: .seconds(30))
            #expect(syncs.map(\.key) == Array(tenants.prefix(2)))
            #expect(try await leases.claim(kind: .sync, keys: tenants, node: "node-b", limit: 5, duration: .seconds(30)).map(\.key) == [tenants[2]])
        }
    }

    @Test("A released delivery lease is forgotten (its next claim starts at epoch 1); other kinds keep growing their epoch", arguments: StoreKind.allCases)
    func releasedDeliveryLeasesAreForgotten(kind: StoreKind) async throws {
        try await kind.withStore { conformance in
            let leases = conformance.makeLeaseStore()
            let delivery = try #require(try await leases.claim(kind: .delivery, keys: ["7/journal"], node: "node-a", limit: 1, duration: .seconds(30)).first)
            let sync = try #require(try await leases.claim(kind: .sync, keys: ["tenant-x"], node: "node-a", limit: 1, duration: .seconds(30)).first)
            try await leases.release([delivery, sync])
            let deliveryAgain = try #require(try await leases.claim(kind: .delivery, keys: ["7/journal"], node: "node-b", limit: 1, duration: .seconds(30)).first)
            let syncAgain = try #require(try await leases.claim(kind: .sync, keys: ["tenant-x"], node: "node-b", limit: 1, duration: .seconds(30)).first)
            #expect(deliveryAgain.epoch == 1, "the released delivery lease was kept (epoch \(deliveryAgain.epoch))")
            #expect(syncAgain.epoch == sync.epoch + 1, "a sync lease's epoch did not grow")
            // Forgotten only when released by its holder: a claim elsewhere is still refused while it is held.
            #expect(try await leases.claim(kind: .delivery, keys: ["7/journal"], node: "node-a", limit: 1, duration: .seconds(30)).isEmpty)
        }
    }

    @Test("Renewal keeps held leases and reports the released ones lost", arguments: StoreKind.allCases)
    func renewal(kind: StoreKind) async throws {
        try await kind.withStore { conformance in
            let leases = conformance.makeLeaseStore()
            _ = try await conformance.seedDueGrants(tenants: 1)
            let claimed = try await leases.claimDueGrants(node: "node-a", limit: 10, duration: .seconds(30))
            try #require(claimed.count == 2)
            try await leases.release([claimed[1]])
            let renewal = try await leases.renew(claimed, duration: .seconds(60))
            #expect(renewal.renewed.map(\.key) == [claimed[0].key])
            #expect(renewal.lost == [claimed[1]])
            let renewed = try #require(renewal.renewed.first)
            #expect(renewed.epoch == claimed[0].epoch, "a renewal changed the epoch")
            #expect(renewed.expiresAt > claimed[0].expiresAt, "a renewal did not move the expiry")
        }
    }

    @Test("A fenced token write commits under a held lease and is refused, storing nothing, under a released one", arguments: StoreKind.allCases)
    func fencedTokenWrite(kind: StoreKind) async throws {
        try await kind.withStore { conformance in
            let leases = conformance.makeLeaseStore()
            let grant = try #require(try await conformance.seedDueGrants(tenants: 1).first)
            let lease = try #require(try await leases.claim(kind: .tokenRefresh, keys: [String(grant.id)], node: "node-a", limit: 1, duration: .seconds(30)).first)
            let now = Date()

            #expect(try await leases.storeRefreshedTokenSet(
                grantID: grant.id, tokens: ConformanceStore.tokens("held", now), nextRefreshAt: now.addingTimeInterval(600),
                expectedGeneration: 1, at: now, under: lease
            ))
            #expect(try await conformance.store.tokenSet(grantID: grant.id)?.accessToken.reveal == "held")

            try await leases.release([lease])
            await #expect(throws: TenantSyncError.self) {
                try await leases.storeRefreshedTokenSet(
                    grantID: grant.id, tokens: ConformanceStore.tokens("after-release", now), nextRefreshAt: now,
                    expectedGeneration: 2, at: now, under: lease
                )
            }
            let snapshot = try #require(try await conformance.store.tokenSnapshot(grantID: grant.id))
            #expect(snapshot.tokens?.accessToken.reveal == "held", "a write under a released lease was stored")
            #expect(snapshot.generation == 2)
            // Claimed again by the same node: the new epoch writes, the released one still does not.
            let again = try #require(try await leases.claim(kind: .tokenRefresh, keys: [String(grant.id)], node: "node-a", limit: 1, duration: .seconds(30)).first)
            #expect(again.epoch == lease.epoch + 1)
            await #expect(throws: TenantSyncError.self, "a write under the earlier epoch of a lease held again was stored") {
                try await leases.storeRefreshedTokenSet(
                    grantID: grant.id, tokens: ConformanceStore.tokens("stale-epoch", now), nextRefreshAt: now,
                    expectedGeneration: 2, at: now, under: lease
                )
            }
            #expect(try await conformance.store.tokenSet(grantID: grant.id)?.accessToken.reveal == "held")
            #expect(try await leases.storeRefreshedTokenSet(
                grantID: grant.id, tokens: ConformanceStore.tokens("again", now), nextRefreshAt: now, expectedGeneration: 2, at: now, under: again
            ))
            do {
                _ = try await leases.storeRefreshedTokenSet(
                    grantID: grant.id, tokens: ConformanceStore.tokens("x", now), nextRefreshAt: now, expectedGeneration: 3, at: now, under: lease
                )
                Issue.record("a write under a released lease did not throw")
            } catch let error as TenantSyncError {
                #expect(error.code == .leaseLost)
                #expect(error.context["lease.epoch"] == "\(lease.epoch)")
            }
        }
    }

    @Test("Fenced refresh failures: recorded under a held lease; under a released one refused, the grant untouched and no alert queued", arguments: StoreKind.allCases)
    func fencedFailureWrites(kind: StoreKind) async throws {
        try await kind.withStore { conformance in
            let leases = conformance.makeLeaseStore()
            let grant = try #require(try await conformance.seedDueGrants(tenants: 1).first)
            let account = try #require(try await conformance.store.account(id: grant.accountID))
            let lease = try #require(try await leases.claim(kind: .tokenRefresh, keys: [String(grant.id)], node: "node-a", limit: 1, duration: .seconds(30)).first)
            let now = Date()
            let report = IncidentReport(
                grantID: grant.id, accountID: account.id, kind: .tokenInvalid, error: "invalid_grant", aadstsCode: 70008, traceID: nil,
                correlationID: nil, seenAt: now
            )
            let alert: @Sendable (Incident) -> NewAlert = { incident in
                NewAlert(kind: "token-invalid", severity: .critical, tenantID: account.tenantID, accountID: account.id, grantID: grant.id,
                         incidentID: incident.id, subject: "invalid", body: "invalid")
            }
            let transient = try await leases.recordTransientFailure(
                grantID: grant.id, outcome: "transient: timeout", at: now, nextRefreshAt: now.addingTimeInterval(60), incident: nil,
                alert: alert, channels: ["journal"], under: lease
            )
            #expect(transient.incident == nil)
            #expect(try await conformance.store.tokenStatus(grantID: grant.id)?.consecutiveFailures == 1)

            try await leases.release([lease])
            let before = try await conformance.store.tokenStatus(grantID: grant.id)
            do {
                _ = try await leases.recordTransientFailure(
                    grantID: grant.id, outcome: "transient: late", at: now, nextRefreshAt: now.addingTimeInterval(600), incident: nil,
                    alert: alert, channels: ["journal"], under: lease
                )
                Issue.record("a failure under a released lease was recorded")
            } catch let error as TenantSyncError {
                #expect(error.code == .leaseLost)
            }
            do {
                _ = try await leases.invalidateGrant(
                    grantID: grant.id, outcome: "permanent: invalid_grant", report: report, alert: alert, channels: ["journal"], under: lease
                )
                Issue.record("an invalidation under a released lease was stored")
            } catch let error as TenantSyncError {
                #expect(error.code == .leaseLost)
            }
            #expect(try await conformance.store.tokenStatus(grantID: grant.id) == before, "a refused failure changed the grant's record")
            #expect(try await conformance.store.grant(id: grant.id)?.state == .valid, "a refused invalidation invalidated the grant")
            #expect(try await conformance.store.alerts(includeAcknowledged: true, limit: 10).isEmpty, "a refused invalidation queued an alert")

            // Held again: the invalidation commits, with its incident and alert.
            let again = try #require(try await leases.claim(kind: .tokenRefresh, keys: [String(grant.id)], node: "node-a", limit: 1, duration: .seconds(30)).first)
            let outcome = try await leases.invalidateGrant(
                grantID: grant.id, outcome: "permanent: invalid_grant", report: report, alert: alert, channels: ["journal"], under: again
            )
            #expect(outcome.isNew && outcome.alert != nil)
            #expect(try await conformance.store.grant(id: grant.id)?.state == .invalid)
        }
    }

    @Test("A fenced directory batch is written under the tenant's held sync lease and refused, writing nothing, under a released one", arguments: StoreKind.allCases)
    func fencedDirectoryBatch(kind: StoreKind) async throws {
        try await kind.withStore { conformance in
            let leases = conformance.makeLeaseStore()
            let tenant = try await conformance.store.upsertTenant(id: "00000000-0000-0000-0000-00000000fe11", domain: "fence.example", displayName: nil)
            let lease = try #require(try await leases.claim(kind: .sync, keys: [tenant.id], node: "node-a", limit: 1, duration: .seconds(30)).first)
            var batch = DirectoryBatch()
            batch.deltaLinks = ["users": "https://graph.example/users/delta?token=held"]
            _ = try await leases.applyDirectoryBatch(tenantID: tenant.id, batch: batch, at: Date(), under: lease)
            #expect(try await conformance.store.deltaLink(tenantID: tenant.id, resource: "users") == batch.deltaLinks["users"])

            try await leases.release([lease])
            var late = DirectoryBatch()
            late.deltaLinks = ["users": "https://graph.example/users/delta?token=late"]
            do {
                _ = try await leases.applyDirectoryBatch(tenantID: tenant.id, batch: late, at: Date(), under: lease)
                Issue.record("a batch under a released sync lease was written")
            } catch let error as TenantSyncError {
                #expect(error.code == .leaseLost)
            }
            #expect(try await conformance.store.deltaLink(tenantID: tenant.id, resource: "users") == batch.deltaLinks["users"], "the late batch's link was stored")
            // A lease on another tenant does not fence this one.
            let other = try await conformance.store.upsertTenant(id: "00000000-0000-0000-0000-00000000fe12", domain: "other.example", displayName: nil)
            let otherLease = try #require(try await leases.claim(kind: .sync, keys: [other.id], node: "node-a", limit: 1, duration: .seconds(30)).first)
            await #expect(throws: TenantSyncError.self) {
                _ = try await leases.applyDirectoryBatch(tenantID: tenant.id, batch: late, at: Date(), under: otherLease)
            }
        }
    }

    @Test("Every write made inside fenced(by:) commits only while the lease is held: a consent session's token set and pending consent", arguments: StoreKind.allCases)
    func fencedScope(kind: StoreKind) async throws {
        try await kind.withStore { conformance in
            let leases = conformance.makeLeaseStore()
            let (_, account, _, graph) = try await conformance.seedExchangeAccount()
            let now = Date()
            func tokens(_ tag: String) -> TokenSet {
                TokenSet(accessToken: Secret("access-\(tag)"), refreshToken: Secret("refresh-\(tag)"), scopes: ["x"], obtainedAt: now, expiresAt: now + 3_600)
            }
            let lease = try #require(try await leases.claim(kind: .consentSession, keys: ["\(account.id)"], node: "node-a", limit: 1, duration: .seconds(30)).first)
            try await leases.fenced(by: lease) {
                try await conformance.store.storeTokenSet(grantID: graph.id, tokens: tokens("held"), nextRefreshAt: now + 3_000)
            }
            #expect(try await conformance.store.tokenSet(grantID: graph.id)?.accessToken == Secret("access-held"))

            try await leases.release([lease])
            // node-b takes the session over and stores its own tokens.
            let taken = try #require(try await leases.claim(kind: .consentSession, keys: ["\(account.id)"], node: "node-b", limit: 1, duration: .seconds(30)).first)
            try await leases.fenced(by: taken) {
                try await conformance.store.storeTokenSet(grantID: graph.id, tokens: tokens("new-holder"), nextRefreshAt: now + 3_000)
            }
            // node-a, late, writes nothing.
            do {
                try await leases.fenced(by: lease) {
                    try await conformance.store.storeTokenSet(grantID: graph.id, tokens: tokens("late"), nextRefreshAt: now + 3_000)
                }
                Issue.record("a token set was stored under a lease another node holds now")
            } catch let error as TenantSyncError {
                #expect(error.code == .leaseLost, "\(error)")
            }
            #expect(try await conformance.store.tokenSet(grantID: graph.id)?.accessToken == Secret("access-new-holder"), "the late write replaced the new holder's tokens")
            await #expect(throws: TenantSyncError.self) {
                try await leases.fenced(by: lease) {
                    try await conformance.store.savePendingConsent(
                        ConsentSessionStoreTests.consent(accountID: account.id, code: "late-\(UUID().uuidString)", expiresAt: now + 900), at: now
                    )
                }
            }
            #expect(try await conformance.sql("SELECT count(*) FROM consent_sessions") == ["0"], "a pending consent was stored under a lost lease")
        }
    }

    @Test("A run's removals are held for confirmation only while its tenant's sync lease is held", arguments: StoreKind.allCases)
    func fencedHold(kind: StoreKind) async throws {
        try await kind.withStore { conformance in
            let leases = conformance.makeLeaseStore()
            let tenant = try await conformance.store.upsertTenant(id: "00000000-0000-0000-0000-00000000fe21", domain: "hold.example", displayName: nil)
            let lease = try #require(try await leases.claim(kind: .sync, keys: [tenant.id], node: "node-a", limit: 1, duration: .seconds(30)).first)
            let late = try await conformance.store.startSyncRun(tenantID: tenant.id, service: nil, trigger: .daily, mode: .delta, at: Date())
            try await leases.release([lease])
            do {
                try await leases.holdSyncRun(
                    runID: late.id, tenantID: tenant.id, removedUserIDs: ["u1", "u2"], removedGroupIDs: [], deltaLinks: ["users": "late"], at: Date(),
                    under: lease
                )
                Issue.record("removals were held under a released sync lease")
            } catch let error as TenantSyncError {
                #expect(error.code == .leaseLost)
            }
            #expect(try await conformance.store.syncRun(id: late.id)?.state == .running, "the run was marked held under a released lease")
            #expect(try await conformance.store.heldSyncRuns(tenantID: tenant.id).isEmpty)
            #expect(try await conformance.sql("SELECT count(*) FROM held_removals") == ["0"], "removals were written under a released lease")

            let held = try #require(try await leases.claim(kind: .sync, keys: [tenant.id], node: "node-a", limit: 1, duration: .seconds(30)).first)
            let run = try await conformance.store.startSyncRun(tenantID: tenant.id, service: nil, trigger: .daily, mode: .delta, at: Date())
            try await leases.holdSyncRun(
                runID: run.id, tenantID: tenant.id, removedUserIDs: ["u1", "u2"], removedGroupIDs: ["g1"], deltaLinks: ["users": "next"], at: Date(),
                under: held
            )
            #expect(try await conformance.store.heldSyncRuns(tenantID: tenant.id).map(\.id) == [run.id])
            #expect(try await conformance.sql("SELECT count(*) FROM held_removals") == ["3"])
            // A lease on another tenant does not fence this one.
            await #expect(throws: TenantSyncError.self) {
                try await leases.holdSyncRun(
                    runID: run.id, tenantID: "00000000-0000-0000-0000-00000000fe22", removedUserIDs: [], removedGroupIDs: [], deltaLinks: [:], at: Date(),
                    under: held
                )
            }
        }
    }

    @Test("Nodes are listed with their version, heartbeat and unexpired leases by kind", arguments: StoreKind.allCases)
    func nodesListing(kind: StoreKind) async throws {
        try await kind.withStore { conformance in
            let leases = conformance.makeLeaseStore()
            _ = try await conformance.seedDueGrants(tenants: 2)
            let started = Date(timeIntervalSince1970: 1_800_000_000)
            try await leases.announceNode(name: "node-b", version: "2.0", startedAt: started)
            try await leases.announceNode(name: "node-a", version: "1.0", startedAt: started)
            let tokens = try await leases.claimDueGrants(node: "node-a", limit: 3, duration: .seconds(30))
            _ = try await leases.claim(kind: .sync, keys: ["t1", "t2"], node: "node-b", limit: 5, duration: .seconds(30))
            _ = try await leases.claim(kind: .delivery, keys: ["1/smtp"], node: "node-a", limit: 5, duration: .seconds(30))

            var nodes = try await leases.nodes()
            #expect(nodes.map(\.name) == ["node-a", "node-b"])
            #expect(nodes.map(\.version) == ["1.0", "2.0"])
            #expect(nodes.allSatisfy { $0.startedAt == started && $0.silentFor < .seconds(60) })
            #expect(nodes[0].leasesHeld == [.tokenRefresh: 3, .delivery: 1], "node-a holds \(nodes[0].leasesHeld)")
            #expect(nodes[1].leasesHeld == [.sync: 2], "node-b holds \(nodes[1].leasesHeld)")

            try await leases.release(tokens)
            try await leases.heartbeat(node: "node-a")
            nodes = try await leases.nodes()
            #expect(nodes[0].leasesHeld == [.delivery: 1], "released leases are still counted: \(nodes[0].leasesHeld)")
            await #expect(throws: TenantSyncError.self) { try await leases.heartbeat(node: "node-z") }
        }
    }
}
