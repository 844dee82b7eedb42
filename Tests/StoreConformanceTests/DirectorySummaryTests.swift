import Foundation
import TenantSyncCore
import Testing
@testable import TenantSyncStore
import TenantSyncCore

/// What `directory` and `directory --user` read: counts per tenant, the newest run of each mode,
/// delta link ages, a user's groups through nested (even cyclic) groups, paged, and "since when".
@Suite("Directory summary and user record")
struct DirectorySummaryTests {
    @Test(arguments: StoreKind.allCases) func countsRunsLinksAndOneUsersGroups(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
        let store = fixture.store
        let tenant = try await store.upsertTenant(id: UUID().uuidString, domain: "contoso.com", displayName: nil)
        let other = try await store.upsertTenant(id: UUID().uuidString, domain: "fabrikam.com", displayName: nil)
        let first = Date(timeIntervalSince1970: 1_790_000_000)

        var batch = DirectoryBatch()
        batch.upsertedUsers = [
            DirectoryUser(id: "u1", userPrincipalName: "alice@contoso.com", displayName: "Alice", mail: nil, accountEnabled: true),
            DirectoryUser(id: "u2", userPrincipalName: "bob@contoso.com", displayName: "Bob", mail: nil, accountEnabled: true),
            DirectoryUser(id: "u3", userPrincipalName: "carol@contoso.com", displayName: "Carol", mail: nil, accountEnabled: false),
        ]
        batch.upsertedGroups = ["g1", "g2", "g3"].map { DirectoryGroup(id: $0, displayName: "Group \($0)", mail: nil) }
        // u1 ∈ g1 ∈ g2 ∈ g3 ∈ g1: a cycle, as Entra ID forbids but a reader must survive.
        batch.addedMemberships = [
            GroupMembership(groupID: "g1", memberID: "u1", memberType: .user),
            GroupMembership(groupID: "g2", memberID: "g1", memberType: .group),
            GroupMembership(groupID: "g3", memberID: "g2", memberType: .group),
            GroupMembership(groupID: "g1", memberID: "g3", memberType: .group),
            GroupMembership(groupID: "g2", memberID: "u2", memberType: .user),
        ]
        batch.deltaLinks = ["users": "https://graph/users/delta?token=1", "groups": "https://graph/groups/delta?token=1"]
        try await store.applyDirectoryBatch(tenantID: tenant.id, batch: batch, at: first)
        var elsewhere = DirectoryBatch()
        elsewhere.upsertedUsers = [DirectoryUser(id: "x1", userPrincipalName: "x@fabrikam.com", displayName: nil, mail: nil, accountEnabled: true)]
        elsewhere.upsertedGroups = [DirectoryGroup(id: "x-g", displayName: nil, mail: nil)]
        elsewhere.addedMemberships = [GroupMembership(groupID: "x-g", memberID: "x1", memberType: .user)]
        try await store.applyDirectoryBatch(tenantID: other.id, batch: elsewhere, at: first)

        let oldFull = try await store.startSyncRun(tenantID: tenant.id, service: nil, trigger: .provision, mode: .full, at: first)
        try await store.finishSyncRun(runID: oldFull.id, state: .succeeded, error: nil, at: first)
        let delta = try await store.startSyncRun(tenantID: tenant.id, service: nil, trigger: .daily, mode: .delta, at: first.addingTimeInterval(60))
        try await store.finishSyncRun(runID: delta.id, state: .failed, error: "boom", at: first.addingTimeInterval(61))
        let newFull = try await store.startSyncRun(tenantID: tenant.id, service: nil, trigger: .manual, mode: .full, at: first.addingTimeInterval(120))

        let summary = try await store.directorySummary(tenantID: tenant.id)
        #expect(summary.users == 3 && summary.disabledUsers == 1 && summary.groups == 3 && summary.memberships == 5, "only this tenant's rows: \(summary)")
        #expect(summary.lastFull?.id == newFull.id && summary.lastFull?.state == .running, "the newest full run, whatever its state")
        #expect(summary.lastDelta?.id == delta.id && summary.lastDelta?.error == "boom")
        #expect(summary.deltaLinks == [.init(resource: "groups", updatedAt: first), .init(resource: "users", updatedAt: first)])
        // What a sync's pacing reads (the size class): counted in SQL, this tenant's users only.
        #expect(try await store.directoryUserCount(tenantID: tenant.id) == 3)
        #expect(try await store.directoryUserCount(tenantID: other.id) == 1)
        #expect(try await store.directoryUserCount(tenantID: UUID().uuidString) == 0)
        let empty = try await store.directorySummary(tenantID: UUID().uuidString)
        #expect(empty == DirectorySummary(users: 0, disabledUsers: 0, groups: 0, memberships: 0, lastFull: nil, lastDelta: nil, deltaLinks: []))

        // Alice's groups: g1 directly, g2 and g3 through it; the cycle back to g1 ends.
        let alice = try #require(try await store.directoryUserRecord(tenantID: tenant.id, userPrincipalName: "ALICE@contoso.com", groupsAfter: nil, groupsLimit: 10))
        #expect(alice.user.id == "u1" && alice.groupsTotal == 3)
        #expect(alice.groups.map(\.group.id) == ["g1", "g2", "g3"] && alice.groups.map(\.direct) == [true, false, false], "\(alice.groups)")
        #expect(alice.firstSyncedAt == first && alice.changedAt == first && alice.pendingRemovalRunID == nil)
        let page = try #require(try await store.directoryUserRecord(tenantID: tenant.id, userPrincipalName: "alice@contoso.com", groupsAfter: "g1", groupsLimit: 1))
        #expect(page.groups.map(\.group.id) == ["g2"] && page.groupsTotal == 3)
        #expect(try await store.directoryUserRecord(tenantID: tenant.id, userPrincipalName: "x@fabrikam.com", groupsAfter: nil, groupsLimit: 10) == nil)

        // A later change moves the last change, never the first sync.
        var rename = DirectoryBatch()
        rename.upsertedUsers = [DirectoryUser(id: "u1", userPrincipalName: "alice@contoso.com", displayName: "Alice Renamed", mail: nil, accountEnabled: true)]
        try await store.applyDirectoryBatch(tenantID: tenant.id, batch: rename, at: first.addingTimeInterval(3_600))
        let renamed = try #require(try await store.directoryUserRecord(tenantID: tenant.id, userPrincipalName: "alice@contoso.com", groupsAfter: nil, groupsLimit: 10))
        #expect(renamed.firstSyncedAt == first && renamed.changedAt == first.addingTimeInterval(3_600))

        // A held run that would remove Alice names itself on her record.
        try await store.holdSyncRun(runID: newFull.id, removedUserIDs: ["u1"], removedGroupIDs: [], deltaLinks: [:], at: first.addingTimeInterval(180))
        #expect(try await store.directoryUserRecord(tenantID: tenant.id, userPrincipalName: "alice@contoso.com", groupsAfter: nil, groupsLimit: 10)?.pendingRemovalRunID == newFull.id)
        #expect(try await store.directoryUserRecord(tenantID: tenant.id, userPrincipalName: "bob@contoso.com", groupsAfter: nil, groupsLimit: 10)?.pendingRemovalRunID == nil)
        }
    }
}
