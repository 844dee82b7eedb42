import Foundation
import M365Emulator
import MicrosoftCloud
import Testing
import TenantSyncCore
import TenantSyncDaemon
import TenantSyncStore

/// The sync engine against the emulator over loopback.
@Suite("Directory sync", .serialized)
struct DirectorySyncTests {
    @Test func firstSyncIsFullAndMatchesTheDirectory() async throws {
        try await SyncFixture.with { fixture in
            let run = try await fixture.synchronizer().run(tenantID: fixture.tenant.id, service: .exchangeOnline, trigger: .provision)
            #expect(run.mode == .full && run.state == .succeeded && run.trigger == .provision)
            let expected = try fixture.emulatorUsers()
            let stored = try await fixture.store.directoryUsers(tenantID: fixture.tenant.id)
            #expect(stored.count == expected.count)
            for user in stored {
                let source = try #require(expected[user.id], "stored user \(user.userPrincipalName) is not in the directory")
                #expect(user.userPrincipalName == source.userPrincipalName && user.displayName == source.displayName && user.mail == source.mail)
            }
            let groups = try fixture.emulator.groups(tenant: fixture.tenant.id).filter { $0.state == .active }
            #expect(try await fixture.store.directoryGroupIDs(tenantID: fixture.tenant.id) == Set(groups.map(\.id)))
            let memberships = try await fixture.store.groupMemberships(tenantID: fixture.tenant.id)
            #expect(memberships.count == groups.reduce(0) { $0 + $1.memberCount })
            #expect(memberships.contains { $0.memberType == .group }, "nested groups must be kept as group members")
            #expect(run.counts.usersAdded == expected.count && run.counts.membershipsAdded == memberships.count)
            #expect(try await fixture.store.deltaLink(tenantID: fixture.tenant.id, resource: "users") != nil)
            #expect(try await fixture.store.deltaLink(tenantID: fixture.tenant.id, resource: "groups") != nil)
        }
    }

    @Test func laterSyncsAreDeltaAndApplyChangesAndBothKindsOfDeletion() async throws {
        try await SyncFixture.with { fixture in
            let tenant = fixture.tenant.id
            try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            let users = try fixture.emulator.users(tenant: tenant, limit: 10).filter { $0.state == .active }
            let group = try #require(try fixture.emulator.groups(tenant: tenant).first { $0.state == .active })
            let created = try fixture.emulator.createUser(tenant: tenant, UserDraft(userPrincipalName: "new.hire@\(fixture.tenant.domain)", displayName: "New Hire"))
            _ = try fixture.emulator.updateUser(tenant: tenant, user: users[0].id, UserDraft(displayName: "Renamed Person"))
            try fixture.emulator.deleteUser(tenant: tenant, user: users[1].id)              // soft: @removed changed
            try fixture.emulator.deleteUser(tenant: tenant, user: users[2].id, hard: true)  // hard: @removed deleted
            try fixture.emulator.addMember(tenant: tenant, group: group.id, member: created.id)

            let run = try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            #expect(run.mode == .delta && run.state == .succeeded)
            #expect(run.counts.usersAdded == 1 && run.counts.usersChanged >= 1 && run.counts.usersRemoved == 2, "counts: \(run.counts)")
            let stored = Dictionary(uniqueKeysWithValues: try await fixture.store.directoryUsers(tenantID: tenant).map { ($0.id, $0) })
            #expect(stored[created.id]?.userPrincipalName == "new.hire@\(fixture.tenant.domain)")
            #expect(stored[users[0].id]?.displayName == "Renamed Person")
            #expect(stored[users[1].id] == nil, "a soft-deleted user leaves protection")
            #expect(stored[users[2].id] == nil, "a hard-deleted user leaves protection")
            let memberships = try await fixture.store.groupMemberships(tenantID: tenant)
            #expect(memberships.contains { $0.groupID == group.id && $0.memberID == created.id })
            #expect(Set(stored.keys) == Set(try fixture.emulatorUsers().keys))
        }
    }

    @Test func goneOnDeltaFallsBackToAFullSyncAndSaysSo() async throws {
        try await SyncFixture.with { fixture in
            let tenant = fixture.tenant.id
            try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            _ = try fixture.emulator.addFault(FaultRule(tenant: tenant, path: "/users/delta", kind: .gone, times: 1))
            let run = try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .manual)
            #expect(run.mode == .full && run.state == .succeeded)
            #expect(run.note?.contains("410") == true, "note: \(String(describing: run.note))")
            let runs = try await fixture.store.syncRuns(tenantID: tenant, limit: 3)
            #expect(runs.map(\.state) == [.succeeded, .failed, .succeeded])
            #expect(runs[1].mode == .delta && runs[1].error?.contains("falling back to a full sync") == true)
        }
    }

    @Test func anExpiredDeltaTokenFallsBackToAFullSync() async throws {
        try await SyncFixture.with { fixture in
            let tenant = fixture.tenant.id
            try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            try fixture.emulator.advanceClock(by: 8 * 86_400)
            let run = try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            #expect(run.mode == .full && run.state == .succeeded)
        }
    }

    @Test func aMalformedPageAbortsTheRunAndKeepsTheLastGoodLinks() async throws {
        try await SyncFixture.with { fixture in
            let tenant = fixture.tenant.id
            try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            let linkBefore = try await fixture.store.deltaLink(tenantID: tenant, resource: "users")
            let usersBefore = try await fixture.store.directoryUsers(tenantID: tenant)
            let victim = try #require(usersBefore.first)
            try fixture.emulator.deleteUser(tenant: tenant, user: victim.id, hard: true)
            _ = try fixture.emulator.addFault(FaultRule(tenant: tenant, path: "/users/delta", kind: .malformedJSON, times: 1))
            await #expect(throws: GraphError.self) {
                try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            }
            let failed = try #require(try await fixture.store.syncRuns(tenantID: tenant, limit: 1).first)
            #expect(failed.state == .failed && failed.error?.contains("not a valid Graph page") == true, "error: \(String(describing: failed.error))")
            #expect(try await fixture.store.deltaLink(tenantID: tenant, resource: "users") == linkBefore)
            #expect(try await fixture.store.directoryUsers(tenantID: tenant) == usersBefore)
            // The next run picks the change up from the same link.
            let next = try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            #expect(next.mode == .delta && next.counts.usersRemoved == 1)
        }
    }

    @Test func throttlingAndServerErrorsAreRetriedHonouringRetryAfter() async throws {
        try await SyncFixture.with { fixture in
            let tenant = fixture.tenant.id
            _ = try fixture.emulator.addFault(FaultRule(tenant: tenant, path: "/v1.0/users", kind: .status, status: 429, retryAfterSeconds: 1, times: 1))
            _ = try fixture.emulator.addFault(FaultRule(tenant: tenant, path: "/members", kind: .status, status: 503, retryAfterSeconds: 1, times: 2))
            let started = ContinuousClock.now
            let run = try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            #expect(run.state == .succeeded)
            #expect(ContinuousClock.now - started >= .seconds(1), "Retry-After: 1 must be waited")
            #expect(try await fixture.store.directoryUsers(tenantID: tenant).count == (try fixture.emulatorUsers().count))
        }
    }

    @Test func anAccessTokenRevokedMidRunIsRefreshedOnce() async throws {
        try await SyncFixture.with(users: 2_500) { fixture in
            let tenant = fixture.tenant.id
            _ = try await fixture.tokens.graphAccessToken(tenantID: tenant, forceRefresh: false)
            _ = try fixture.emulator.revokeRefreshTokens(tenant: tenant, accessTokens: true)
            let run = try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            #expect(run.state == .succeeded)
            #expect(fixture.tokens.requests.withLock { $0 } == 2, "one token before, one after the 401")
        }
    }

    @Test func aMassDeletionIsHeldUntilAnOperatorConfirms() async throws {
        try await SyncFixture.with(users: 100) { fixture in
            let tenant = fixture.tenant.id
            try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            let before = try await fixture.store.directoryUserIDs(tenantID: tenant)
            for user in try fixture.emulator.users(tenant: tenant, limit: 30) { try fixture.emulator.deleteUser(tenant: tenant, user: user.id, hard: true) }
            let linkBefore = try await fixture.store.deltaLink(tenantID: tenant, resource: "users")
            let held = try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            #expect(held.state == .held)
            #expect(held.note?.contains("would remove 30 of 100 users") == true, "note: \(String(describing: held.note))")
            #expect(try await fixture.store.directoryUserIDs(tenantID: tenant) == before, "nothing is removed while held")
            #expect(try await fixture.store.deltaLink(tenantID: tenant, resource: "users") == linkBefore)
            #expect(try await fixture.store.heldRemovals(runID: held.id).userIDs.count == 30)

            try await fixture.store.confirmHeldSyncRun(runID: held.id, at: .now)
            #expect(try await fixture.store.directoryUserIDs(tenantID: tenant).count == 70)
            #expect(try await fixture.store.syncRun(id: held.id)?.state == .succeeded)
            #expect(try await fixture.store.deltaLink(tenantID: tenant, resource: "users") != linkBefore)
        }
    }

    @Test func aRemovalBelowTheThresholdIsApplied() async throws {
        try await SyncFixture.with(users: 100) { fixture in
            let tenant = fixture.tenant.id
            try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            for user in try fixture.emulator.users(tenant: tenant, limit: 10) { try fixture.emulator.deleteUser(tenant: tenant, user: user.id, hard: true) }
            let run = try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            #expect(run.state == .succeeded && run.counts.usersRemoved == 10)
        }
    }
}
