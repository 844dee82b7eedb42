import Foundation
import M365Emulator
import Testing

/// `groups/delta` with `members@delta` ("Get incremental changes for groups", section "Paging through members in
/// a large group"): a large membership is split across pages, the same group object repeating with more members;
/// a client that merges every page gets exactly the directory's memberships, in the first round and after.
@Suite(.serialized)
struct GroupDeltaPagingTests {
    static let config = EmulatorConfiguration(tenants: 1, usersPerTenant: 120, groupsPerTenant: 0)
    static let query = "/groups/delta?$select=displayName,mail,members"

    /// Local state a delta client keeps: members by group id, as "@odata.type|id".
    struct Memberships {
        var byGroup: [String: Set<String>] = [:]
        var pagesWithGroup: [String: Int] = [:]
        var maxMembersOnAPage = 0
        /// Groups that came with `members@delta: []` (Microsoft leaves the property out instead).
        var emptyMemberLists = 0

        mutating func apply(page: [[String: Any]]) {
            var onThisPage = 0
            for group in page {
                guard let id = group["id"] as? String else { continue }
                if group["@removed"] != nil { byGroup[id] = nil; continue }
                pagesWithGroup[id, default: 0] += 1
                var members = byGroup[id] ?? []
                if let list = group["members@delta"] as? [[String: Any]], list.isEmpty { emptyMemberLists += 1 }
                for m in group["members@delta"] as? [[String: Any]] ?? [] {
                    let key = "\(m["@odata.type"] as? String ?? "?")|\(m["id"] as? String ?? "?")"
                    if m["@removed"] != nil { members.remove(key) } else { members.insert(key) }
                    onThisPage += 1
                }
                byGroup[id] = members
            }
            maxMembersOnAPage = max(maxMembersOnAPage, onThisPage)
        }
    }

    /// Follows a delta round to its deltaLink, merging every page.
    static func round(_ h: Harness, _ start: String, token: String, into state: inout Memberships,
                      afterFirstPage: () throws -> Void = {}) async throws -> (pages: Int, deltaLink: String) {
        var next = start
        var pages = 0
        while true {
            let page = try await h.graph(next, token: token)
            try #require(page.status == 200, "delta page \(pages) failed: \(page.text.prefix(300))")
            state.apply(page: page.values)
            pages += 1
            if pages == 1 { try afterFirstPage() }
            if let link = page.json["@odata.nextLink"] as? String { next = link; continue }
            return (pages, try #require(page.json["@odata.deltaLink"] as? String))
        }
    }

    /// Every group's members as Graph lists them (`groups/{id}/members`), in the same "@odata.type|id" form.
    static func directory(_ h: Harness, tenant: String, token: String) async throws -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        for group in try h.emulator.groups(tenant: tenant) where group.state == .active {
            let members = try await h.allPages("/groups/\(group.id)/members", token: token).items
            result[group.id] = Set(members.map { "\($0["@odata.type"] as? String ?? "?")|\($0["id"] as? String ?? "?")" })
        }
        return result
    }

    /// A big group (40 users, a nested group, a contact, a service principal, a device), a small one, an empty one.
    static func populate(_ h: Harness, tenant: String) throws -> (big: String, small: String, empty: String, users: [UserInfo]) {
        let users = try h.emulator.users(tenant: tenant, limit: 120)
        let big = try h.emulator.createGroup(tenant: tenant, GroupDraft(displayName: "Everyone", mailEnabled: true)).id
        let small = try h.emulator.createGroup(tenant: tenant, GroupDraft(displayName: "Few")).id
        let empty = try h.emulator.createGroup(tenant: tenant, GroupDraft(displayName: "Nobody")).id
        for user in users.prefix(40) { try h.emulator.addMember(tenant: tenant, group: big, member: user.id) }
        for user in users[100..<103] { try h.emulator.addMember(tenant: tenant, group: small, member: user.id) }
        try h.emulator.addMember(tenant: tenant, group: big, member: small)
        for type in ["orgContact", "servicePrincipal", "device"] {
            let object = try h.emulator.createDirectoryObject(tenant: tenant, DirectoryObjectDraft(type: type))
            try h.emulator.addMember(tenant: tenant, group: big, member: object.id)
        }
        return (big, small, empty, users)
    }

    @Test func splitMembershipsReassembleToExactlyTheDirectoryInTheFirstRoundAndAfter() async throws {
        try await Harness.run(Self.config) { h in
            let tenant = h.firstTenant.id
            let (big, small, empty, users) = try Self.populate(h, tenant: tenant)
            try h.emulator.updateSettings(tenant: tenant, TenantSettingsPatch(deltaMembersPerPage: 10))
            let token = try await h.appToken(tenant: tenant)

            var state = Memberships()
            let first = try await Self.round(h, Self.query, token: token, into: &state)
            #expect(state.maxMembersOnAPage <= 10, "a page carries at most deltaMembersPerPage members")
            #expect(state.pagesWithGroup[big] == 5, "44 members in pages of 10: the same group object on 5 pages")
            #expect(first.pages == 5, "the small and the empty group fit on the big group's last page")
            #expect(state.byGroup[empty] == [])
            #expect(state.emptyMemberLists == 0, "a group without members is listed without members@delta")
            var expected = try await Self.directory(h, tenant: tenant, token: token)
            #expect(state.byGroup == expected)
            let types = Set(state.byGroup[big, default: []].map { $0.split(separator: "|")[0] })
            #expect(types == ["#microsoft.graph.user", "#microsoft.graph.group", "#microsoft.graph.orgContact",
                              "#microsoft.graph.servicePrincipal", "#microsoft.graph.device"])

            // Changes: 12 members leave the big group, 3 join, the contact leaves, a member of the small group is
            // deleted for good (and so leaves it), the empty group gains one.
            for user in users.prefix(12) { try h.emulator.removeMember(tenant: tenant, group: big, member: user.id) }
            for user in users[50..<53] { try h.emulator.addMember(tenant: tenant, group: big, member: user.id) }
            let contact = try #require(state.byGroup[big]?.first { $0.hasPrefix("#microsoft.graph.orgContact|") })
            try h.emulator.removeMember(tenant: tenant, group: big, member: String(contact.split(separator: "|")[1]))
            try h.emulator.deleteUser(tenant: tenant, user: users[100].id, hard: true)
            try h.emulator.addMember(tenant: tenant, group: empty, member: users[60].id)

            var changes = Memberships()
            let second = try await Self.round(h, first.deltaLink, token: token, into: &changes)
            #expect(second.pages == 2, "17 membership changes of the big group in pages of 10")
            #expect(changes.pagesWithGroup[big] == 2)
            #expect(changes.byGroup[small] != nil && changes.byGroup[empty] != nil)
            // The same change pages merged onto the first round's state (a delta link can be followed again).
            var merged = Memberships(byGroup: state.byGroup)
            _ = try await Self.round(h, first.deltaLink, token: token, into: &merged)
            expected = try await Self.directory(h, tenant: tenant, token: token)
            #expect(merged.byGroup == expected, "first round + changes = the directory")
        }
    }

    // A group that changes while its members are being paged is sent again from its first member: duplicates are
    // allowed in delta, a member skipped because the list shifted would be lost for good.
    @Test func membershipChangedMidRoundIsNotLost() async throws {
        try await Harness.run(Self.config) { h in
            let tenant = h.firstTenant.id
            let (big, _, _, users) = try Self.populate(h, tenant: tenant)
            try h.emulator.updateSettings(tenant: tenant, TenantSettingsPatch(deltaMembersPerPage: 10))
            let token = try await h.appToken(tenant: tenant)
            var state = Memberships()
            let first = try await Self.round(h, Self.query, token: token, into: &state, afterFirstPage: {
                // users[0] was on the first page; removing it shifts the rest of the list by one.
                try h.emulator.removeMember(tenant: tenant, group: big, member: users[0].id)
            })
            _ = try await Self.round(h, first.deltaLink, token: token, into: &state)
            let expected = try await Self.directory(h, tenant: tenant, token: token)
            #expect(state.byGroup == expected)
        }
    }

    // `$expand=members` (the doc's own example) and no `$select` at all also return members@delta.
    @Test(arguments: ["/groups/delta?$select=displayName&$expand=members", "/groups/delta"])
    func membersAreReturnedWithExpandAndByDefault(path: String) async throws {
        try await Harness.run(Self.config) { h in
            let tenant = h.firstTenant.id
            let (big, _, _, _) = try Self.populate(h, tenant: tenant)
            let token = try await h.appToken(tenant: tenant)
            var state = Memberships()
            _ = try await Self.round(h, path, token: token, into: &state)
            #expect(state.byGroup[big]?.count == 44)
        }
    }
}
