import Testing
import TenantSyncCore
import TestSupport
@testable import TenantSyncDaemon

/// The token a run's requests share: overlapping fetches cannot leave an older token stored over a newer one,
/// and one rejected token is refreshed once however many requests saw it rejected.
@Suite("Run reader token holder")
struct RunReaderTests {
    @Test func aFetchThatEndsLastCannotReplaceANewerToken() async throws {
        let source = GatedTokenSource()
        let reader = RunReader(tenantID: "contoso", source: source, budget: RunReadBudget(limit: 10))
        var starts = source.starts.makeAsyncIterator()

        async let first = reader.current()
        #expect(await starts.next() == 1)
        async let second = reader.current()
        // The second caller either fetched a token of its own (fetch 2) or waits for fetch 1.
        let arrived = try await eventually("the second caller fetched or joined the first fetch") {
            if source.startedCount == 2 { return true }
            return await reader.waitingCallers == 1
        }
        try #require(arrived, "the second caller neither fetched nor waited for the first fetch")
        if source.startedCount == 2 {
            // The fetch that started last answers first: an unguarded holder stores token-2, then token-1 over it.
            source.answer(2)
            _ = try await second
        }
        source.answer(1)
        let answers = try await [first, second].map(\.reveal)

        let newest = "token-\(source.startedCount)"
        #expect(try await reader.current().reveal == newest, "the stored token is the newest one fetched")
        #expect(answers == [newest, newest], "both callers got the stored token")
        #expect(source.startedCount == 1, "concurrent callers share one fetch")
    }

    @Test func oneRejectedTokenIsRefreshedOnceForAllItsRequests() async throws {
        let source = GatedTokenSource()
        let reader = RunReader(tenantID: "contoso", source: source, budget: RunReadBudget(limit: 10))
        var starts = source.starts.makeAsyncIterator()

        async let initial = reader.current()
        #expect(await starts.next() == 1)
        source.answer(1)
        let rejected = try await initial

        async let first = reader.refreshed(replacing: rejected)
        #expect(await starts.next() == 2)
        async let second = reader.refreshed(replacing: rejected)
        let arrived = try await eventually("the second refresh fetched or joined the first") {
            if source.startedCount == 3 { return true }
            return await reader.waitingCallers == 1
        }
        try #require(arrived, "the second refresh neither fetched nor waited for the first")
        source.answer(3)
        source.answer(2)

        #expect(try await [first, second].map(\.reveal) == ["token-2", "token-2"])
        #expect(source.forcedRefreshes == [false, true], "one plain fetch, then one refresh for both rejected requests")
        #expect(try await reader.refreshed(replacing: rejected).reveal == "token-2", "a token already replaced is not refreshed again")
        #expect(source.startedCount == 2)
    }
}
