import Foundation
import Testing
import TenantSyncCore
@testable import TenantSyncDaemon

/// A run under the tenant's sync lease (a cluster's node): every directory batch it writes is fenced by the lease.
@Suite("Sync runs fenced by the tenant's lease", .serialized)
struct SyncFenceTests {
    @Test("a run whose sync lease is no longer held writes no batch (no user, no delta link) and ends failed; under a held lease the same run writes")
    func aRunUnderALostLeaseWritesNothing() async throws {
        try await SyncFixture.with(users: 40, groups: 3) { fixture in
            let tenant = fixture.tenant.id
            let leases = SingleNodeLeaseStore(storage: fixture.store)
            let lost = try #require(try await leases.claim(kind: .sync, keys: [tenant], node: "node-a", limit: 1, duration: .seconds(30)).first)
            try await leases.release([lost])
            let fenced = DirectorySynchronizer.SyncFence(lease: lost, store: leases)
            _ = try? await fixture.synchronizer().run(
                tenantID: tenant, service: nil, trigger: .manual, forceFull: false, fence: fenced, progress: { _ in }
            )
            let failed = try #require(try await fixture.store.syncRuns(tenantID: tenant, limit: 1).first)
            #expect(failed.state == .failed, "\(failed)")
            #expect(failed.error?.contains("no longer held") == true, "\(failed.error ?? "no error")")
            #expect(try await fixture.store.directoryUsers(tenantID: tenant).isEmpty, "a batch was written under a lost lease")
            #expect(try await fixture.store.deltaLink(tenantID: tenant, resource: "users") == nil)

            let held = try #require(try await leases.claim(kind: .sync, keys: [tenant], node: "node-a", limit: 1, duration: .seconds(30)).first)
            let run = try await fixture.synchronizer().run(
                tenantID: tenant, service: nil, trigger: .manual, forceFull: false, fence: .init(lease: held, store: leases), progress: { _ in }
            )
            #expect(run.state == .succeeded)
            #expect(try await fixture.store.directoryUsers(tenantID: tenant).count == (try fixture.emulatorUsers().count))
            #expect(try await fixture.store.deltaLink(tenantID: tenant, resource: "users") != nil)
        }
    }
}
