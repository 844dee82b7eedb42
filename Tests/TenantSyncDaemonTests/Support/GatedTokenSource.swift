import Synchronization
import TenantSyncCore

/// A token source whose fetches wait until the test answers them, so a test decides the order in which
/// overlapping fetches end. Fetches are numbered from 1 in the order they start; fetch `n` answers
/// `token-n`, the newest token being the one fetched last.
final class GatedTokenSource: GraphTokenSource {
    private struct State {
        var started = 0
        var forced: [Bool] = []
        var pending: [Int: CheckedContinuation<Secret, any Error>] = [:]
    }

    private let state = Mutex(State())
    private let startsContinuation: AsyncStream<Int>.Continuation
    /// The number of each fetch as it starts, once it can be answered.
    let starts: AsyncStream<Int>

    init() {
        (starts, startsContinuation) = AsyncStream.makeStream(of: Int.self)
    }

    /// How many fetches have started.
    var startedCount: Int { state.withLock { $0.started } }
    /// Whether each fetch, in order, asked for a refreshed token.
    var forcedRefreshes: [Bool] { state.withLock { $0.forced } }

    func graphAccessToken(tenantID: String, forceRefresh: Bool) async throws -> Secret {
        try await withCheckedThrowingContinuation { continuation in
            let number = state.withLock { state in
                state.started += 1
                state.forced.append(forceRefresh)
                state.pending[state.started] = continuation
                return state.started
            }
            startsContinuation.yield(number)
        }
    }

    /// Ends fetch `number` with `token-number`; does nothing when that fetch is not waiting.
    func answer(_ number: Int) {
        let continuation = state.withLock { $0.pending.removeValue(forKey: number) }
        continuation?.resume(returning: Secret("token-\(number)"))
    }
}
