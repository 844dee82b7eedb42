import Foundation
import M365Emulator
import Testing

/// Delta queries ("Use delta query to track changes in Microsoft Graph data", "Get incremental changes for users/groups").
@Suite(.serialized)
struct DeltaQueryTests {
    static let config = EmulatorConfiguration(tenants: 1, usersPerTenant: 120, groupsPerTenant: 4)

    // A round pages with @odata.nextLink and ends with @odata.deltaLink; the deltaLink then returns only changes:
    // updated and new users in full, soft-deleted ones as @removed {reason: changed}, hard-deleted as {reason: deleted}.
    @Test func usersDeltaRoundThenChangesWithRemovedReasons() async throws {
        try await Harness.run(Self.config) { h in
            let tenant = h.firstTenant.id
            let token = try await h.appToken(tenant: tenant)
            let round = try await h.allPages("/users/delta?$select=displayName,userPrincipalName", token: token,
                                             headers: [("Prefer", "odata.maxpagesize=50")])
            #expect(round.pages == 3)
            #expect(Set(round.items.compactMap { $0["id"] as? String }).count == 120)
            let deltaLink = try #require(round.last["@odata.deltaLink"] as? String)
            #expect(deltaLink.contains("$deltatoken="))

            let users = try h.emulator.users(tenant: tenant, limit: 3)
            try h.emulator.updateUser(tenant: tenant, user: users[0].id, UserDraft(displayName: "Renamed Person"))
            try h.emulator.deleteUser(tenant: tenant, user: users[1].id)
            try h.emulator.deleteUser(tenant: tenant, user: users[2].id, hard: true)
            let created = try h.emulator.createUser(tenant: tenant, UserDraft(userPrincipalName: "new.person@\(h.firstTenant.domain)"))

            let changes = try await h.allPages(deltaLink, token: token)
            let byID = Dictionary(uniqueKeysWithValues: changes.items.map { ($0["id"] as? String ?? "", $0) })
            #expect(byID.count == 4)
            #expect(byID[users[0].id]?["displayName"] as? String == "Renamed Person")
            #expect(Set(byID[users[0].id]?.keys.map { $0 } ?? []) == ["id", "displayName", "userPrincipalName"], "$select carries over")
            #expect((byID[users[1].id]?["@removed"] as? [String: Any])?["reason"] as? String == "changed")
            #expect((byID[users[2].id]?["@removed"] as? [String: Any])?["reason"] as? String == "deleted")
            #expect(byID[created.id]?["userPrincipalName"] as? String == created.userPrincipalName)

            let quiet = try await h.allPages(try #require(changes.last["@odata.deltaLink"] as? String), token: token)
            #expect(quiet.items.isEmpty, "no change since the last deltaLink")
        }
    }

    // $deltatoken=latest returns no objects, only a deltaLink for changes from now on.
    @Test func deltaTokenLatestSkipsTheInitialRound() async throws {
        try await Harness.run(Self.config) { h in
            let tenant = h.firstTenant.id
            let token = try await h.appToken(tenant: tenant)
            let latest = try await h.graph("/users/delta?$deltatoken=latest", token: token)
            #expect(latest.status == 200)
            #expect(latest.values.isEmpty)
            let link = try #require(latest.json["@odata.deltaLink"] as? String)
            try h.emulator.createUser(tenant: tenant, UserDraft(userPrincipalName: "later@\(h.firstTenant.domain)"))
            let changes = try await h.allPages(link, token: token)
            #expect(changes.items.map { $0["userPrincipalName"] as? String } == ["later@\(h.firstTenant.domain)"])
        }
    }

    // groups/delta with $select=members reports members@delta: all members first, then additions and removals.
    @Test func groupsDeltaReportsMembersDelta() async throws {
        try await Harness.run(Self.config) { h in
            let tenant = h.firstTenant.id
            let token = try await h.appToken(tenant: tenant)
            let group = try h.emulator.createGroup(tenant: tenant, GroupDraft(displayName: "Delta Group"))
            let users = try h.emulator.users(tenant: tenant, limit: 2)
            try h.emulator.addMember(tenant: tenant, group: group.id, member: users[0].id)
            let round = try await h.allPages("/groups/delta?$select=displayName,members", token: token)
            let initial = try #require(round.items.first { $0["id"] as? String == group.id })
            #expect((initial["members@delta"] as? [[String: Any]])?.map { $0["id"] as? String } == [users[0].id])

            try h.emulator.addMember(tenant: tenant, group: group.id, member: users[1].id)
            try h.emulator.removeMember(tenant: tenant, group: group.id, member: users[0].id)
            let changes = try await h.allPages(try #require(round.last["@odata.deltaLink"] as? String), token: token)
            let changed = try #require(changes.items.first { $0["id"] as? String == group.id })
            let members = try #require(changed["members@delta"] as? [[String: Any]])
            #expect(members.contains { $0["id"] as? String == users[1].id && $0["@removed"] == nil })
            #expect(members.contains { $0["id"] as? String == users[0].id && ($0["@removed"] as? [String: Any])?["reason"] as? String == "deleted" })
        }
    }

    // Delta tokens of identity resources expire after 7 days: 400 syncStateNotFound (Microsoft 365 Dev Blog,
    // "Duration of change tracking tokens for identity and education resources"); the age is configurable.
    @Test func expiredDeltaTokenAnswersSyncStateNotFound() async throws {
        try await Harness.run(Self.config) { h in
            let tenant = h.firstTenant.id
            let token = try await h.appToken(tenant: tenant)
            let link = try #require(try await h.graph("/users/delta?$deltatoken=latest", token: token).json["@odata.deltaLink"] as? String)
            try h.emulator.updateSettings(tenant: tenant, TenantSettingsPatch(accessTokenLifetimeSeconds: 30 * 86_400))
            let longToken = try await h.appToken(tenant: tenant)
            try h.emulator.advanceClock(by: 7 * 86_400 + 60)
            let expired = try await h.graph(link, token: longToken)
            #expect(expired.status == 400)
            #expect((expired.json["error"] as? [String: Any])?["code"] as? String == "syncStateNotFound")
        }
    }

    // A reset: 410 Gone with a Location header that starts a new round.
    @Test func injectedResetAnswers410WithLocation() async throws {
        try await Harness.run(Self.config) { h in
            let tenant = h.firstTenant.id
            let token = try await h.appToken(tenant: tenant)
            try h.emulator.addFault(FaultRule(tenant: tenant, path: "/users/delta", kind: .gone, times: 1))
            let gone = try await h.graph("/users/delta", token: token)
            #expect(gone.status == 410)
            let location = try #require(gone.header("Location"))
            #expect(location == "\(h.base)/v1.0/users/delta")
            let restart = try await h.allPages(location, token: token)
            #expect(restart.items.count == 120)
        }
    }
}
