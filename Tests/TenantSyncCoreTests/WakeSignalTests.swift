import Testing
import TenantSyncCore

/// The one wake-up primitive of the daemon's loops. A broken signal shows as a wait that never returns,
/// so every test is bounded by a time limit instead of hanging the run.
@Suite("WakeSignal", .timeLimit(.minutes(1)))
struct WakeSignalTests {
    /// Returns once `signal` has a waiter parked on it: the waiting task got past any pending signal.
    static func parked(_ signal: WakeSignal) async {
        while !signal.hasWaiter { await Task.yield() }
    }

    @Test("A signal sent before anyone waits is kept for the next wait")
    func signalBeforeWaitIsNotLost() async {
        let signal = WakeSignal()
        signal.signal()
        #expect(!signal.hasWaiter)
        await signal.wait()
        #expect(!signal.hasWaiter)
    }

    @Test("A signal wakes the task waiting on it")
    func signalWakesAWaiter() async {
        let signal = WakeSignal()
        let waiter = Task { await signal.wait() }
        await Self.parked(signal)
        signal.signal()
        await waiter.value
        #expect(!signal.hasWaiter)
    }

    @Test("Many signals before a wait coalesce into one wake")
    func signalsCoalesce() async {
        let signal = WakeSignal()
        signal.signal()
        signal.signal()
        signal.signal()
        await signal.wait()
        // Nothing is left pending: the next wait parks until a new signal.
        let waiter = Task { await signal.wait() }
        await Self.parked(signal)
        signal.signal()
        await waiter.value
    }

    @Test("Cancellation ends a wait at once")
    func cancellationEndsTheWait() async {
        let signal = WakeSignal()
        let waiter = Task { await signal.wait() }
        await Self.parked(signal)
        waiter.cancel()
        await waiter.value
        #expect(!signal.hasWaiter, "the cancelled waiter is gone")
    }

    @Test("A cancelled wait consumes no pending signal")
    func cancelledWaitLeavesThePendingSignal() async {
        let signal = WakeSignal()
        signal.signal()
        let waiter = Task {
            // Cancelled before it waits: the wait must return without taking the signal.
            while !Task.isCancelled { await Task.yield() }
            await signal.wait()
        }
        waiter.cancel()
        await waiter.value
        // The signal is still pending: this wait returns at once (or the time limit fails the test).
        await signal.wait()
    }
}
