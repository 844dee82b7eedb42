@testable import MicrosoftCloud
import Testing
import TenantSyncCore
@testable import TenantSyncDaemon

/// The group round's state machine on hand-made pages: which batch each page writes, what is fetched next,
/// and how a round ends; no store, no HTTP.
@Suite("Membership window")
struct MembershipWindowTests {
    static let first = "https://graph.example/v1.0/groups/delta?$select=displayName,mail,members"

    static func user(_ id: String) -> GraphDirectoryObject {
        GraphDirectoryObject(id: id, odataType: "#microsoft.graph.user", removed: nil)
    }

    static func group(_ id: String, _ members: [String]) -> GraphGroup {
        GraphGroup(id: id, displayName: "Group \(id)", mail: nil, removed: nil, membersDelta: members.map(user))
    }

    static func page(_ groups: [GraphGroup], next: String? = nil, delta: String? = nil) -> GraphPage<GraphGroup> {
        GraphPage(value: groups, nextLink: next, deltaLink: delta)
    }

    static func written(_ action: MembershipWindow.Action) -> [String: [String]] {
        let batch: DirectoryBatch
        switch action {
        case .write(let b, _), .finish(let b, _), .finishWithoutDeltaLink(let b): batch = b
        }
        return batch.replacedMembershipsOfGroups.mapValues { $0.map(\.memberID) }
    }

    @Test func eachPageWritesItsCompleteGroupsWhileTheNextIsFetchedAndTheLastEndsTheRound() throws {
        var window = MembershipWindow(first: Self.first, maximumPages: 10)
        let one = try window.received(Self.page([Self.group("a", ["u1"]), Self.group("b", ["u2"])], next: "p2"), from: Self.first)
        guard case .write(_, thenFetch: "p2") = one else { Issue.record("page 1 should write and fetch p2, got \(one)"); return }
        #expect(Self.written(one) == ["a": ["u1"]], "b is the last group of its page: the next page may continue it")

        let two = try window.received(Self.page([Self.group("b", ["u3"])], next: "p3"), from: "p2")
        guard case .write(_, thenFetch: "p3") = two else { Issue.record("page 2 should write and fetch p3, got \(two)"); return }
        #expect(Self.written(two).isEmpty, "b is still open")

        let three = try window.received(Self.page([Self.group("c", [])], delta: "delta-groups"), from: "p3")
        guard case .finish(_, deltaLink: "delta-groups") = three else { Issue.record("page 3 should end the round, got \(three)"); return }
        #expect(Self.written(three) == ["b": ["u2", "u3"], "c": []], "the round's end closes every open group")
        #expect(window.seenGroups == ["a", "b", "c"])
    }

    @Test func aLastPageWithoutADeltaLinkStillWritesItsGroupsThenFailsTheRound() throws {
        var window = MembershipWindow(first: Self.first, maximumPages: 10)
        let action = try window.received(Self.page([Self.group("a", ["u1"])]), from: Self.first)
        var expected = DirectoryBatch()
        expected.upsertedGroups = [DirectoryGroup(id: "a", displayName: "Group a", mail: nil)]
        expected.replacedMembershipsOfGroups = ["a": [GroupMembership(groupID: "a", memberID: "u1", memberType: .user)]]
        #expect(action == .finishWithoutDeltaLink(expected), "the last page's groups are written before the round fails")
    }

    @Test func aNextLinkThatLoopsOrRunsPastTheMaximumEndsTheRoundBeforeAnythingOfThatPageIsWritten() throws {
        var looping = MembershipWindow(first: Self.first, maximumPages: 10)
        _ = try looping.received(Self.page([Self.group("a", ["u1"])], next: "p2"), from: Self.first)
        let loop = #expect(throws: GraphError.self) { try looping.received(Self.page([Self.group("b", [])], next: Self.first), from: "p2") }
        #expect(loop?.code == "nextLinkLoop")

        var bounded = MembershipWindow(first: Self.first, maximumPages: 2)
        _ = try bounded.received(Self.page([Self.group("a", ["u1"])], next: "p2"), from: Self.first)
        let tooMany = #expect(throws: GraphError.self) { try bounded.received(Self.page([Self.group("b", [])], next: "p3"), from: "p2") }
        #expect(tooMany?.code == "tooManyPages")
    }
}
