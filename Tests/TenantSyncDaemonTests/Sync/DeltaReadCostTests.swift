import Foundation
import M365Emulator
import Testing
import TenantSyncCore
import TenantSyncDaemon
import TenantSyncStore

/// A delta run costs what changed: the rows it reads from the store do not grow with the directory, and its users
/// and groups rounds run at once. Real emulator, real SQLite file (its trace counts every row a query returns).
@Suite("Delta read cost", .serialized)
struct DeltaReadCostTests {
    /// The same changes in any directory: 5 renamed, 3 hard- and 1 soft-deleted, 2 created, and one created and
    /// deleted again between the runs (never stored: no removal).
    static func change(_ fixture: SyncFixture) throws {
        let tenant = fixture.tenant.id
        let users = try fixture.emulator.users(tenant: tenant, limit: 9).filter { $0.state == .active }
        for user in users.prefix(5) {
            _ = try fixture.emulator.updateUser(tenant: tenant, user: user.id, UserDraft(displayName: "Renamed \(user.id.prefix(6))"))
        }
        for user in users[5..<8] { try fixture.emulator.deleteUser(tenant: tenant, user: user.id, hard: true) }
        try fixture.emulator.deleteUser(tenant: tenant, user: users[8].id)
        for index in 0..<2 {
            _ = try fixture.emulator.createUser(tenant: tenant, UserDraft(userPrincipalName: "hire\(index)@\(fixture.tenant.domain)", displayName: "Hire"))
        }
        let passing = try fixture.emulator.createUser(tenant: tenant, UserDraft(userPrincipalName: "passing@\(fixture.tenant.domain)", displayName: "Passing"))
        try fixture.emulator.deleteUser(tenant: tenant, user: passing.id, hard: true)
    }

    /// Rows the delta run read, and the run.
    static func deltaRows(_ fixture: SyncFixture) async throws -> (rows: Int, run: SyncRun) {
        let tenant = fixture.tenant.id
        #expect(try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily).state == .succeeded)
        try change(fixture)
        let before = fixture.store.statements.rows
        let run = try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
        let rows = fixture.store.statements.rows - before
        #expect(run.mode == .delta && run.state == .succeeded, "run: \(run)")
        #expect(Set(try await fixture.store.directoryUserIDs(tenantID: tenant)) == Set(try fixture.emulatorUsers().keys),
                "the stored directory is not the emulator's after the delta")
        return (rows, run)
    }

    @Test func aDeltaRunReadsRowsInProportionToTheChangesNotToTheDirectory() async throws {
        try await SyncFixture.with(users: 150, groups: 10) { smallFixture in
            let small = try await Self.deltaRows(smallFixture)
            try await SyncFixture.with(users: 1_500, groups: 10) { largeFixture in
                let large = try await Self.deltaRows(largeFixture)
                #expect(small.run.counts.usersRemoved == 4 && large.run.counts.usersRemoved == 4,
                        "4 stored users were deleted (the one created and deleted between the runs was never stored): \(small.run.counts), \(large.run.counts)")
                #expect(large.run.counts.usersAdded == 2 && large.run.counts.usersChanged == 5, "counts: \(large.run.counts)")
                #expect(large.rows == small.rows, "the delta read \(small.rows) rows at 150 users and \(large.rows) at 1,500: it reads the directory")
                #expect(large.rows < 150, "the delta read \(large.rows) rows for 12 changed users")
            }
        }
    }

    @Test func theUsersAndGroupsRoundsRunAtOnce() async throws {
        try await SyncFixture.with(users: 100, groups: 10) { fixture in
            let tenant = fixture.tenant.id
            #expect(try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily).state == .succeeded)
            let user = try #require(try fixture.emulator.users(tenant: tenant, limit: 1).first)
            _ = try fixture.emulator.updateUser(tenant: tenant, user: user.id, UserDraft(displayName: "Changed"))
            // The users round's request is held for 5 s. Run one after the other, the groups request could only be
            // sent after that answer; run at once, the groups round ends first. The log is in order of answers.
            _ = try fixture.emulator.addFault(FaultRule(tenant: tenant, path: "/v1.0/users/delta", kind: .delay, delayMilliseconds: 5_000, times: 1))
            fixture.emulator.clearRequestLog()
            let run = try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            #expect(run.mode == .delta && run.state == .succeeded && run.counts.usersChanged == 1, "run: \(run)")
            let answered = fixture.emulator.requestLog(tenant: tenant).filter { $0.kind == "graph" }.map(\.path)
            let users = try #require(answered.firstIndex { $0.hasSuffix("/users/delta") }, "\(answered)")
            let groups = try #require(answered.firstIndex { $0.hasSuffix("/groups/delta") }, "\(answered)")
            #expect(groups < users, "the groups round waited for the users round: answers in order \(answered)")
        }
    }
}
