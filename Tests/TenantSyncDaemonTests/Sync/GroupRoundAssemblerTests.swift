@testable import MicrosoftCloud
import Testing
import TenantSyncCore
@testable import TenantSyncDaemon

/// The rule that keeps a split membership from being written half-read, on hand-made pages.
@Suite("Group round assembler")
struct GroupRoundAssemblerTests {
    static func member(_ id: String, _ type: String = "#microsoft.graph.user", removed: Bool = false) -> GraphDirectoryObject {
        GraphDirectoryObject(id: id, odataType: type, removed: removed ? GraphRemoved(reason: "deleted") : nil)
    }

    static func group(_ id: String, _ members: [GraphDirectoryObject]?) -> GraphGroup {
        GraphGroup(id: id, displayName: "Group \(id)", mail: nil, removed: nil, membersDelta: members)
    }

    @Test func theLastGroupOfAPageStaysOpenUntilAnotherGroupFollows() {
        var assembler = GroupRoundAssembler()
        let first = assembler.add([Self.group("a", [Self.member("u1")]), Self.group("b", [Self.member("u2"), Self.member("u3")])], isLastPage: false)
        #expect(first.replacedMembershipsOfGroups.keys.sorted() == ["a"], "b may continue on the next page and must not be written yet")
        let second = assembler.add([Self.group("b", [Self.member("u4"), Self.member("g1", "#microsoft.graph.group")])], isLastPage: false)
        #expect(second.replacedMembershipsOfGroups.isEmpty, "b is still the last group of its page")
        let third = assembler.add([Self.group("b", [Self.member("u5")]), Self.group("c", nil)], isLastPage: true)
        #expect(third.replacedMembershipsOfGroups["b"]?.map(\.memberID) == ["g1", "u2", "u3", "u4", "u5"])
        #expect(third.replacedMembershipsOfGroups["b"]?.first?.memberType == .group)
        #expect(third.replacedMembershipsOfGroups["c"] == [], "a group without members@delta has no members: its stored ones go")
        #expect(assembler.seenGroups == ["a", "b", "c"])
    }

    @Test func aGroupRepeatedAfterItWasWrittenAddsToItInsteadOfReplacingIt() {
        var assembler = GroupRoundAssembler()
        _ = assembler.add([Self.group("a", [Self.member("u1"), Self.member("u2")]), Self.group("b", [])], isLastPage: false)
        let later = assembler.add([Self.group("a", [Self.member("u3"), Self.member("u1", removed: true)]), Self.group("c", [])], isLastPage: true)
        #expect(later.replacedMembershipsOfGroups["a"] == nil, "a second fragment must not replace the first")
        #expect(later.addedMemberships.map(\.memberID) == ["u3"])
        #expect(later.removedMemberships.map(\.memberID) == ["u1"])
    }

    @Test func membersThatAreNeitherUsersNorGroupsAreCountedNotStored() {
        var assembler = GroupRoundAssembler()
        let batch = assembler.add([Self.group("a", [
            Self.member("u1"), Self.member("c1", "#microsoft.graph.orgContact"), Self.member("s1", "#microsoft.graph.servicePrincipal"),
            Self.member("d1", "#microsoft.graph.device"), Self.member("d2", "#microsoft.graph.device"),
        ])], isLastPage: true)
        #expect(batch.replacedMembershipsOfGroups["a"]?.map(\.memberID) == ["u1"])
        #expect(assembler.ignoredMembers == ["#microsoft.graph.orgContact": 1, "#microsoft.graph.servicePrincipal": 1, "#microsoft.graph.device": 2])
    }
}
