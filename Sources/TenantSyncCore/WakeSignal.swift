import Synchronization

/// Wakes a loop that waits for work (the token refresher, the alert dispatcher) without polling.
///
/// - A signal sent while nobody waits is kept, once, for the next ``wait()``: work announced just
///   before the loop parks is never missed.
/// - Signals coalesce: many signals before the next wait cause one wake, not one per signal.
/// - A signal wakes every task waiting at that moment.
/// - Cancellation ends a wait at once and consumes nothing: a pending signal stays for the next wait.
public final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Says there is work: wakes the waiting tasks, or keeps the signal for the next wait when none waits.
    public func signal() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.waiters.isEmpty else {
                state.pending = true
                return []
            }
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Whether a task waits on the signal now (then no signal is pending either).
    ///
    /// Lets a caller (a test, a status probe) know a loop has parked without guessing from elapsed time.
    public var hasWaiter: Bool {
        state.withLock { !$0.waiters.isEmpty }
    }

    /// Returns at the next signal (at once if one is pending), or when the task is cancelled.
    public func wait() async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if Task.isCancelled { return true }
                    if state.pending {
                        state.pending = false
                        return true
                    }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }
}
