import Synchronization
import TenantSyncCore

/// A token source whose fetches wait until the test answers them, so a test decides the order in which
/// overlapping fetches end. Fetches are numbered from 1 in the order they start; fetch `n` answers
/// `token-n`, the newest token being the one fetched last.
final class GatedTokenSource: GraphTokenSource {
    private struct State {
        var started = 0
        /// Fetches that have started and wait for an answer (or had it).
        var answerable = 0
        var forced: [Bool] = []
        var pending: [Int: CheckedContinuation<Secret, any Error>] = [:]
        var cancelled: Set<Int> = []
    }

    private let state = Mutex(State())
    private let startsContinuation: AsyncStream<Int>.Continuation
    /// The number of each fetch as it starts, once it can be answered.
    let starts: AsyncStream<Int>

    init() {
        (starts, startsContinuation) = AsyncStream.makeStream(of: Int.self)
    }

    /// How many fetches have started and can be answered.
    var startedCount: Int { state.withLock { $0.answerable } }
    /// Whether each fetch, in order, asked for a refreshed token.
    var forcedRefreshes: [Bool] { state.withLock { $0.forced } }

    func graphAccessToken(tenantID: String, forceRefresh: Bool) async throws -> Secret {
        let number = state.withLock { state in
            state.started += 1
            state.forced.append(forceRefresh)
            return state.started
        }
        // A cancelled fetch ends at once, so a test that fails before answering cannot hang.
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let cancelled = state.withLock { state in
                    if state.cancelled.remove(number) != nil { return true }
                    state.pending[number] = continuation
                    state.answerable += 1
                    return false
                }
                if cancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    startsContinuation.yield(number)
                }
            }
        } onCancel: {
            let continuation = state.withLock { state in
                let waiting = state.pending.removeValue(forKey: number)
                if waiting == nil { state.cancelled.insert(number) }
                return waiting
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    /// Ends fetch `number` with `token-number`; does nothing when that fetch is not waiting.
    func answer(_ number: Int) {
        let continuation = state.withLock { $0.pending.removeValue(forKey: number) }
        continuation?.resume(returning: Secret("token-\(number)"))
    }
}
