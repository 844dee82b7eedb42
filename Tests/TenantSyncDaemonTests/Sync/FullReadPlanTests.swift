import AsyncHTTPClient
import Foundation
import Logging
import M365Emulator
import MicrosoftCloud
import Testing
import TenantSyncCore
import TenantSyncDaemon

/// The full read's request plan against the emulator: users in 999-user pages, groups with their members in one
/// `/groups/delta` round, never one request per group; split memberships reassembled exactly.
@Suite("Full read plan", .serialized)
struct FullReadPlanTests {
    /// Every group's direct user and group members as Graph lists them (`groups/{id}/members`).
    static func directoryMemberships(_ fixture: SyncFixture) async throws -> Set<GroupMembership> {
        let graph = GraphClient(graphRoot: fixture.url.absoluteString, http: HTTPClient.shared, logger: Logger(label: "test"))
        let token = try await fixture.tokens.graphAccessToken(tenantID: fixture.tenant.id, forceRefresh: false)
        var result = Set<GroupMembership>()
        for group in try fixture.emulator.groups(tenant: fixture.tenant.id) where group.state == .active {
            var next: String? = graph.url("/groups/\(group.id)/members?$select=id&$top=999")
            while let url = next {
                let page = try await graph.page(url, as: GraphDirectoryObject.self, accessToken: token)
                for member in page.value {
                    switch member.odataType {
                    case "#microsoft.graph.user": result.insert(GroupMembership(groupID: group.id, memberID: member.id, memberType: .user))
                    case "#microsoft.graph.group": result.insert(GroupMembership(groupID: group.id, memberID: member.id, memberType: .group))
                    default: break
                    }
                }
                next = page.nextLink
            }
        }
        return result
    }

    /// A group of `count` users plus one contact, one service principal and one device.
    static func addLargeGroup(_ fixture: SyncFixture, users count: Int) throws -> String {
        let tenant = fixture.tenant.id
        let group = try fixture.emulator.createGroup(tenant: tenant, GroupDraft(displayName: "Everyone large"))
        for user in try fixture.emulator.users(tenant: tenant, limit: count) where user.state == .active {
            try fixture.emulator.addMember(tenant: tenant, group: group.id, member: user.id)
        }
        for type in ["orgContact", "servicePrincipal", "device"] {
            let object = try fixture.emulator.createDirectoryObject(tenant: tenant, DirectoryObjectDraft(type: type, displayName: "Not a user"))
            try fixture.emulator.addMember(tenant: tenant, group: group.id, member: object.id)
        }
        return group.id
    }

    @Test func aFullSyncCostsAboutOneRequestPerPageNotOnePerGroup() async throws {
        try await SyncFixture.with(users: 600, groups: 250) { fixture in
            let tenant = fixture.tenant.id
            let groups = try fixture.emulator.groups(tenant: tenant).filter { $0.state == .active }
            let memberEntries = groups.reduce(0) { $0 + $1.memberCount }
            fixture.emulator.clearRequestLog()
            let run = try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            #expect(run.state == .succeeded)

            let graphPaths = fixture.emulator.requestLog(tenant: tenant).filter { $0.kind == "graph" }.map(\.path)
            #expect(!graphPaths.contains { $0.hasSuffix("/members") }, "no per-group member listing: \(graphPaths.filter { $0.hasSuffix("/members") }.prefix(3))")
            let groupRequests = graphPaths.filter { $0.hasSuffix("/groups/delta") }.count
            // Asked for `Prefer: odata.maxpagesize=999`, the emulator's delta pages hold 999 groups and 1,000 member entries.
            let fewest = max((groups.count + 998) / 999, (memberEntries + 999) / 1_000)
            #expect(groupRequests >= fewest && groupRequests <= fewest + (memberEntries + 999) / 1_000,
                    "\(groups.count) groups with \(memberEntries) members took \(groupRequests) group requests; fewest \(fewest)")
            #expect(groupRequests * 10 < groups.count, "\(groupRequests) group requests for \(groups.count) groups")
            // One users page (600 < 999), one request for the users' delta position, and the group round's pages:
            // nothing else (no separate position request for groups, no per-group listing).
            let usage = try fixture.emulator.usage(tenant: tenant)
            #expect(groupRequests == run.pages - 1, "\(groupRequests) group requests for \(run.pages - 1) group pages read")
            #expect(usage.total.requests == 1 + 1 + groupRequests, "requests: \(usage.total.requests), paths: \(graphPaths)")
            #expect(usage.total.resourceUnits == usage.total.requests, "every request of the plan costs 1 RU with $select")
            #expect(Set(try await fixture.store.groupMemberships(tenantID: tenant)) == (try await Self.directoryMemberships(fixture)))
        }
    }

    @Test func aDeltaSyncReadsTheChangesInTheLargestPagesGraphServes() async throws {
        try await SyncFixture.with(users: 600, groups: 250) { fixture in
            let tenant = fixture.tenant.id
            #expect(try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily).state == .succeeded)
            // 300 changed users and 150 changed groups: three and two pages at the default delta page size (100), one each at 999.
            let users = try fixture.emulator.users(tenant: tenant, limit: 300)
            for user in users {
                _ = try fixture.emulator.updateUser(tenant: tenant, user: user.id, UserDraft(displayName: "Changed \(user.id.prefix(8))"))
            }
            for (group, user) in zip(try fixture.emulator.groups(tenant: tenant).prefix(150), users.reversed()) {
                try? fixture.emulator.addMember(tenant: tenant, group: group.id, member: user.id)
            }
            fixture.emulator.clearRequestLog()
            let delta = try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            #expect(delta.mode == .delta && delta.state == .succeeded)
            #expect(delta.counts.usersChanged == 300, "counts: \(delta.counts)")
            let paths = fixture.emulator.requestLog(tenant: tenant).filter { $0.kind == "graph" }.map(\.path)
            #expect(paths.filter { $0.hasSuffix("/users/delta") }.count == 1, "\(paths)")
            #expect(paths.filter { $0.hasSuffix("/groups/delta") }.count == 1, "\(paths)")
        }
    }

    @Test func membershipsSplitAcrossPagesAreStoredExactlyAndForeignMembersAreNot() async throws {
        try await SyncFixture.with(users: 200, groups: 12) { fixture in
            let tenant = fixture.tenant.id
            _ = try fixture.emulator.updateSettings(tenant: tenant, TenantSettingsPatch(deltaMembersPerPage: 7))
            let large = try Self.addLargeGroup(fixture, users: 60)
            let run = try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            #expect(run.mode == .full && run.state == .succeeded)
            let expected = try await Self.directoryMemberships(fixture)
            #expect(expected.filter { $0.groupID == large }.count == 60)
            let stored = Set(try await fixture.store.groupMemberships(tenantID: tenant))
            #expect(stored == expected, "missing \(expected.subtracting(stored).count), extra \(stored.subtracting(expected).count)")
            #expect(!stored.contains { $0.memberType == .other }, "contacts, service principals and devices are not stored")

            // A delta round: @removed members go, new ones come, the split group still adds up.
            let users = try fixture.emulator.users(tenant: tenant, limit: 200).filter { $0.state == .active }
            let members = expected.filter { $0.groupID == large }.map(\.memberID).sorted()
            try fixture.emulator.removeMember(tenant: tenant, group: large, member: members[0])
            try fixture.emulator.removeMember(tenant: tenant, group: large, member: members[1])
            let outsider = try #require(users.first { user in !members.contains(user.id) })
            try fixture.emulator.addMember(tenant: tenant, group: large, member: outsider.id)
            let delta = try await fixture.synchronizer().run(tenantID: tenant, service: nil, trigger: .daily)
            #expect(delta.mode == .delta && delta.state == .succeeded)
            #expect(delta.counts.membershipsRemoved == 2 && delta.counts.membershipsAdded == 1, "counts: \(delta.counts)")
            #expect(Set(try await fixture.store.groupMemberships(tenantID: tenant)) == (try await Self.directoryMemberships(fixture)))
        }
    }
}
