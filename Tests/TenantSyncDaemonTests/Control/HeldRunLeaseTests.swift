import ControlPlane
import Foundation
import Logging
import TenantSyncCore
@testable import TenantSyncDaemon
import Testing

/// Confirming or discarding a held run on a node of a cluster: the tenant's sync lease is taken first.
@Suite("Held runs under the tenant's sync lease", .serialized)
struct HeldRunLeaseTests {
    @Test("confirming a held run is refused while another node holds the tenant's sync lease, applied once it is free, and the lease is released after")
    func confirmingTakesTheSyncLease() async throws {
        let fleet = try await ControlQueryBoundTests.Fleet(tenants: 1)
        defer { fleet.cleanUp() }
        let leases = SingleNodeLeaseStore(storage: fleet.store)
        var control = fleet.control
        control.leasing = ClusterNode(
            name: "node-a", store: leases, version: "test", startedAt: Date(), leaseDuration: .seconds(30), logger: Logger(label: "test")
        )
        let context = ControlContext(peer: PeerCredentials(pid: 1, uid: 0, gid: 0), method: "test", logger: Logger(label: "test"))
        // The fleet's first tenant has a run held by the mass-deletion guard.
        let tenantID = try #require(try await fleet.store.tenants().first?.id)
        try #require(try await fleet.store.heldSyncRuns(tenantID: tenantID).count == 1)

        let other = try await leases.claim(kind: .sync, keys: [tenantID], node: "node-b", limit: 1, duration: .seconds(30))
        let refused = await #expect(throws: TenantSyncError.self) { try await control.confirmHeldSync(tenant: tenantID, context: context) }
        #expect(refused?.code.rawValue == "TemporaryFailure", "\(String(describing: refused))")
        #expect(try await fleet.store.heldSyncRuns(tenantID: tenantID).count == 1, "the held run was applied while node-b held the tenant")

        try await leases.release(other)
        let confirmed = try await control.confirmHeldSync(tenant: tenantID, context: context)
        #expect(confirmed.state != .held, "\(confirmed)")
        #expect(try await fleet.store.heldSyncRuns(tenantID: tenantID).isEmpty)
        #expect(
            try await leases.claim(kind: .sync, keys: [tenantID], node: "node-b", limit: 1, duration: .seconds(30)).count == 1,
            "the tenant's sync lease was not released after the confirmation"
        )
    }
}
