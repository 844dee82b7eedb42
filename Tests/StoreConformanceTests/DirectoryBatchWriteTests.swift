import Foundation
import TenantSyncCore
import Testing
@testable import TenantSyncStore
import TenantSyncCore

/// The directory batch writers (SQLite's through its C API, PostgreSQL's as JSON rows): every value must arrive as
/// it was given (empty text is not NULL, long and non-ASCII text intact), counts must match what
/// changed, and a failing row must roll the whole batch back and leave the writer usable.
@Suite("Directory batch writes")
struct DirectoryBatchWriteTests {
    @Test(arguments: StoreKind.allCases) func valuesArriveExactlyAsGiven(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
        let tenant = try await fixture.store.upsertTenant(id: UUID().uuidString, domain: "contoso.com", displayName: nil)
        let long = String(repeating: "Ωmega-λ ", count: 2_000)
        let users = [
            DirectoryUser(id: "u-empty", userPrincipalName: "empty@contoso.com", displayName: "", mail: "", accountEnabled: false),
            DirectoryUser(id: "u-null", userPrincipalName: "null@contoso.com", displayName: nil, mail: nil, accountEnabled: true),
            DirectoryUser(id: "u-long", userPrincipalName: "long@contoso.com", displayName: long, mail: "l@contoso.com", accountEnabled: true),
            DirectoryUser(id: "u-ü", userPrincipalName: "zoë.müller@contoso.com", displayName: "Zoë 😀 李", mail: "z@contoso.com", accountEnabled: true),
        ]
        var batch = DirectoryBatch()
        batch.upsertedUsers = users
        batch.upsertedGroups = [DirectoryGroup(id: "g-empty", displayName: "", mail: nil), DirectoryGroup(id: "g-ü", displayName: "Führung", mail: "f@contoso.com")]
        batch.replacedMembershipsOfGroups = ["g-ü": [GroupMembership(groupID: "g-ü", memberID: "u-ü", memberType: .user)]]
        let counts = try await fixture.store.applyDirectoryBatch(tenantID: tenant.id, batch: batch, at: .now)
        #expect(counts.usersAdded == 4 && counts.groupsAdded == 2 && counts.membershipsAdded == 1)

        let stored = try await fixture.directoryUsers(tenantID: tenant.id)
        #expect(stored.sorted { $0.id < $1.id } == users.sorted { $0.id < $1.id })
        let nulls = try await fixture.sql("""
            SELECT id || ':' || (CASE WHEN display_name IS NULL THEN 'null' ELSE 'text' END) || ':' || (CASE WHEN mail IS NULL THEN 'null' ELSE 'text' END)
            FROM directory_users ORDER BY id
            """)
        #expect(nulls == ["u-empty:text:text", "u-long:text:text", "u-null:null:null", "u-ü:text:text"], "empty text must not become NULL")
        #expect(try await fixture.directoryGroups(tenantID: tenant.id).map(\.displayName) == ["", "Führung"])
        #expect(try await fixture.store.directoryUser(tenantID: tenant.id, userPrincipalName: "ZOË.MÜLLER@contoso.com") == nil,
                "NOCASE folds ASCII only, as before")
        #expect(try await fixture.store.directoryUser(tenantID: tenant.id, userPrincipalName: "zoë.müller@CONTOSO.COM")?.id == "u-ü")
        #expect(try await fixture.groupMemberships(tenantID: tenant.id) == [GroupMembership(groupID: "g-ü", memberID: "u-ü", memberType: .user)])

        // The same values again change nothing; one changed field changes one row.
        #expect(try await fixture.store.applyDirectoryBatch(tenantID: tenant.id, batch: batch, at: .now) == DirectoryChangeCounts())
        var change = DirectoryBatch()
        change.upsertedUsers = [DirectoryUser(id: "u-empty", userPrincipalName: "empty@contoso.com", displayName: nil, mail: "", accountEnabled: false)]
        change.upsertedGroups = [DirectoryGroup(id: "g-empty", displayName: nil, mail: nil)]
        let changed = try await fixture.store.applyDirectoryBatch(tenantID: tenant.id, batch: change, at: .now)
        #expect(changed.usersChanged == 1 && changed.groupsChanged == 1 && changed.usersAdded == 0, "'' to NULL is a change: \(changed)")
        }
    }

    @Test(arguments: StoreKind.allCases) func replacingMembershipsRemovesStaleAddsNewAndCountsDuplicatesOnce(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
        let tenant = try await fixture.store.upsertTenant(id: UUID().uuidString, domain: "contoso.com", displayName: nil)
        func replace(_ members: [String: [String]]) async throws -> DirectoryChangeCounts {
            var batch = DirectoryBatch()
            batch.replacedMembershipsOfGroups = Dictionary(uniqueKeysWithValues: members.map { group, ids in
                (group, ids.map { GroupMembership(groupID: group, memberID: $0, memberType: $0.hasPrefix("g") ? .group : .user) })
            })
            return try await fixture.store.applyDirectoryBatch(tenantID: tenant.id, batch: batch, at: .now)
        }
        let first = try await replace(["g1": ["u3", "u1", "u2", "u1"], "g2": ["g1"], "g3": []])
        #expect(first.membershipsAdded == 4 && first.membershipsRemoved == 0, "\(first)")
        let second = try await replace(["g1": ["u2", "u4"], "g2": ["g1", "u1"]])
        #expect(second.membershipsAdded == 2 && second.membershipsRemoved == 2, "\(second)")
        let stored = try await fixture.groupMemberships(tenantID: tenant.id).map { "\($0.groupID)>\($0.memberID):\($0.memberType.rawValue)" }
        #expect(stored == ["g1>u2:user", "g1>u4:user", "g2>g1:group", "g2>u1:user"])

        // Large groups go in multi-row statements: duplicates inside one statement and across
        // statements are still counted once, and a partly stored group adds only what is missing.
        let big = (0..<37).map { "m\($0 % 23)" } + (0..<5).map { "m\($0)" }
        let third = try await replace(["g4": big])
        #expect(third.membershipsAdded == 23, "\(third)")
        let fourth = try await replace(["g4": (0..<40).map { "m\($0)" }])
        #expect(fourth.membershipsAdded == 17 && fourth.membershipsRemoved == 0, "\(fourth)")
        let g4 = try await fixture.groupMemberships(tenantID: tenant.id).filter { $0.groupID == "g4" }.map(\.memberID)
        #expect(g4 == (0..<40).map { "m\($0)" }.sorted())
        }
    }

    @Test(arguments: StoreKind.allCases) func aFailingRowRollsTheBatchBackAndTheNextBatchIsWritten(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
        var batch = DirectoryBatch()
        batch.upsertedUsers = [DirectoryUser(id: "u1", userPrincipalName: "a@b", displayName: nil, mail: nil, accountEnabled: true)]
        batch.replacedMembershipsOfGroups = ["g1": [GroupMembership(groupID: "g1", memberID: "u1", memberType: .user)]]
        // No such tenant: the foreign key refuses the first row.
        await #expect(throws: (any Error).self) {
            try await fixture.store.applyDirectoryBatch(tenantID: "no-such-tenant", batch: batch, at: .now)
        }

        let tenant = try await fixture.store.upsertTenant(id: UUID().uuidString, domain: "contoso.com", displayName: nil)
        var mixed = DirectoryBatch()
        mixed.upsertedUsers = [DirectoryUser(id: "u9", userPrincipalName: "z@b", displayName: nil, mail: nil, accountEnabled: true)]
        mixed.addedMemberships = [GroupMembership(groupID: "g1", memberID: "u9", memberType: .user)]
        // A valid batch for the real tenant, then one for the missing tenant: the second leaves nothing behind.
        #expect(try await fixture.store.applyDirectoryBatch(tenantID: tenant.id, batch: mixed, at: .now).usersAdded == 1)
        await #expect(throws: (any Error).self) {
            try await fixture.store.applyDirectoryBatch(tenantID: "no-such-tenant", batch: mixed, at: .now)
        }
        let rows = try await fixture.sql("SELECT (SELECT count(*) FROM directory_users) || ',' || (SELECT count(*) FROM group_members)")
        #expect(rows == ["1,1"], "only the valid batch's rows are stored: \(rows)")
        #expect(try await fixture.store.applyDirectoryBatch(tenantID: tenant.id, batch: batch, at: .now).usersAdded == 1)
        }
    }

    @Test(arguments: StoreKind.allCases) func fiveThousandUsersAndTwentyThousandMembershipsRoundTrip(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
        let tenant = try await fixture.store.upsertTenant(id: UUID().uuidString, domain: "contoso.com", displayName: nil)
        let users = (0..<5_000).map { index in
            DirectoryUser(
                id: UUID().uuidString.lowercased(), userPrincipalName: "user\(index)@contoso.com",
                displayName: index % 7 == 0 ? nil : String(repeating: "n", count: index % 300), mail: index % 5 == 0 ? "" : "m\(index)@contoso.com",
                accountEnabled: index % 3 != 0
            )
        }
        var batch = DirectoryBatch()
        batch.upsertedUsers = users
        for group in 0..<400 {
            let id = "group-\(group)"
            batch.replacedMembershipsOfGroups[id] = (0..<50).map { GroupMembership(groupID: id, memberID: users[(group * 50 + $0) % users.count].id, memberType: .user) }
        }
        let counts = try await fixture.store.applyDirectoryBatch(tenantID: tenant.id, batch: batch, at: .now)
        #expect(counts.usersAdded == 5_000 && counts.membershipsAdded == 20_000)
        #expect(try await fixture.directoryUsers(tenantID: tenant.id).sorted { $0.id < $1.id } == users.sorted { $0.id < $1.id })
        #expect(Set(try await fixture.groupMemberships(tenantID: tenant.id)) == Set(batch.replacedMembershipsOfGroups.values.joined()))
        }
    }
}
