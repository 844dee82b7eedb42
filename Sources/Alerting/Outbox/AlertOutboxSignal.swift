import Synchronization

/// Wakes the ``AlertDispatcher`` when a new alert was stored, so delivery starts at once without polling.
///
/// Signals coalesce: many signals while the dispatcher is busy cause one extra round.
public final class AlertOutboxSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    /// Says there is new work in the outbox.
    public func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    /// Whether a dispatcher is parked on the signal now: it finished its round and waits for new work.
    ///
    /// Lets a caller (a test, a status probe) know the dispatcher is idle without guessing from elapsed time.
    public var hasWaiter: Bool {
        state.withLock { $0.waiter != nil }
    }

    /// Returns when signalled (at once if a signal is pending) or when the task is cancelled.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
