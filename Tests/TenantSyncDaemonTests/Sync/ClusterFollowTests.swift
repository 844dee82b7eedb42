import Foundation
import Logging
import Testing
import TestSupport
import TenantSyncCore
@testable import TenantSyncDaemon

/// A sync asked on a node of a cluster while another node syncs the tenant: it follows that run only if the run
/// serves it.
@Suite("Sync requests following another node's run", .serialized)
struct ClusterFollowTests {
    @Test("a full read asked here while another node runs a delta run of the tenant waits for that run to end, then reads everything itself")
    func aFullReadIsNotServedByAnotherNodesDeltaRun() async throws {
        try await SyncFixture.with(users: 20, groups: 2) { fixture in
            try await SyncSchedulingTests.activeAccount(fixture)
            let tenant = fixture.tenant.id
            // Synced a moment ago: no daily run falls due during the test.
            let earlier = try await fixture.store.startSyncRun(tenantID: tenant, service: nil, trigger: .manual, mode: .full, at: Date())
            try await fixture.store.finishSyncRun(runID: earlier.id, state: .succeeded, error: nil, at: Date())
            let leases = SingleNodeLeaseStore(storage: fixture.store)
            let node = ClusterNode(
                name: "node-a", store: leases, version: "test", startedAt: Date(), leaseDuration: .seconds(30), logger: Logger(label: "test")
            )
            let coordinator = SyncCoordinator()
            let clock = ManualClock()
            let scheduler = SyncScheduler(
                coordinator: coordinator, synchronizer: fixture.synchronizer(), store: fixture.store, settings: try SyncSchedulingTests.settings(),
                heartbeat: Heartbeat(), clock: clock, leasing: node, logger: Logger(label: "test")
            )
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await scheduler.run() }
                // The daily loop's first pass (which closes runs no lease covers) is over once it sleeps.
                try #require(try await eventually(timeout: .seconds(10), "the daily loop sleeps") { clock.sleeperCount >= 1 })

                // node-b holds the tenant and runs a delta run of it.
                let other = try await leases.claim(kind: .sync, keys: [tenant], node: "node-b", limit: 1, duration: .seconds(30))
                try #require(other.count == 1)
                let delta = try await fixture.store.startSyncRun(tenantID: tenant, service: nil, trigger: .daily, mode: .delta, at: Date())

                await coordinator.submit(.init(tenantID: tenant, trigger: .manual, forceFull: true))
                let completion = Task { try await coordinator.completion(tenantID: tenant) }
                // Following node-b's run: its row is read again after each (manual) second, a second sleeper.
                let following = try await eventually(timeout: .seconds(10), "the request follows node-b's run") { clock.sleeperCount >= 2 }
                try #require(following, "the request never followed node-b's run")

                // node-b's run ends and it lets the tenant go; the follow loop looks again each (manual) second.
                try await fixture.store.finishSyncRun(runID: delta.id, state: .succeeded, error: nil, at: Date())
                try await leases.release(other)
                let ended = try await eventually(timeout: .seconds(30), "the request's run ended") {
                    clock.advance(by: .seconds(1))
                    return await !coordinator.isBusy(tenantID: tenant)
                }
                #expect(ended, "the request never ended")
                let run = try await completion.value
                #expect(run.id != delta.id, "the full read asked here was answered with node-b's delta run")
                #expect(run.mode == .full && run.state == .succeeded, "\(run)")
                #expect(try await fixture.store.directoryUsers(tenantID: tenant).count == (try fixture.emulatorUsers().count))
                group.cancelAll()
            }
        }
    }
}
