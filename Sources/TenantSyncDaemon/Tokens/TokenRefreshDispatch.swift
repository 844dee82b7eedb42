import Foundation
import TenantSyncCore

/// The token refresher's in-flight bookkeeping as a pure state machine: state in, actions out, no IO.
///
/// ``TokenRefresher`` owns one behind a mutex and does the IO the actions ask for (read due grants,
/// probe the store, start refreshes, sleep). Times are the wall-clock dates token expiry is measured
/// on, passed in by the caller, so every decision is testable without a clock or a store.
struct TokenRefreshDispatch: Sendable {
    /// Grants being refreshed by the scheduled loop now.
    private(set) var inFlight: Set<Int64> = []
    /// Grants whose last attempt could not be stored: not retried before the date.
    private(set) var deferredUntil: [Int64: Date] = [:]
    private(set) var shuttingDown = false
    /// Set while the store refuses writes: no refresh token is redeemed until a probe succeeds.
    private(set) var storeFailure: StoreWriteFailure?
    /// Completed scheduled refreshes, for tests and the benchmark.
    private(set) var completed = 0
    private(set) var peakInFlight = 0

    /// What the loop does next in a round.
    enum RoundAction: Equatable {
        /// The store refused writes recently: wait this long before probing again.
        case pauseForStore(Duration)
        /// Every slot is taken: wait for a finishing refresh to wake the loop (no timer).
        case waitForWake
        /// Read up to `limit` due grants and start those not in `busy`, at most `capacity` of them;
        /// `deferred` (part of `busy`) bounds the pause when fewer are due.
        case readDue(limit: Int, busy: Set<Int64>, capacity: Int, deferred: [Int64: Date])
    }

    /// Begins a round at `now` with `maxInFlight` slots: forgets expired deferrals and says what to do.
    mutating func beginRound(at now: Date, maxInFlight: Int) -> RoundAction {
        if let failure = storeFailure, failure.nextCheckAt > now {
            return .pauseForStore(.seconds(failure.nextCheckAt.timeIntervalSince(now)))
        }
        deferredUntil = deferredUntil.filter { $0.value > now }
        let capacity = maxInFlight - inFlight.count
        guard capacity > 0 else { return .waitForWake }
        // Ask for enough rows to see past the grants already in flight or deferred.
        let busy = inFlight.union(deferredUntil.keys)
        return .readDue(limit: busy.count + capacity, busy: busy, capacity: capacity, deferred: deferredUntil)
    }

    /// The grants to start among the `due` ones the store returned for a `.readDue` action, in order.
    static func ready(_ due: [Int64], busy: Set<Int64>, capacity: Int) -> [Int64] {
        Array(due.filter { !busy.contains($0) }.prefix(capacity))
    }

    /// A scheduled refresh of `grantID` starts.
    mutating func started(_ grantID: Int64) {
        inFlight.insert(grantID)
        peakInFlight = max(peakInFlight, inFlight.count)
    }

    /// A scheduled refresh of `grantID` finished, either way; the caller then wakes the loop.
    mutating func finished(_ grantID: Int64) {
        inFlight.remove(grantID)
        completed += 1
    }

    /// The grant's attempt could not be recorded: keep away from Microsoft until `until`.
    mutating func deferGrant(_ grantID: Int64, until: Date) {
        deferredUntil[grantID] = until
    }

    /// Graceful shutdown: no new refresh starts; those in flight finish.
    mutating func shutDown() {
        shuttingDown = true
    }

    /// A store probe succeeded; returns the failure it ends, if one was in force (to say so once).
    mutating func storeAccepted() -> StoreWriteFailure? {
        defer { storeFailure = nil }
        return storeFailure
    }

    /// A store probe at `at` failed with `error`; `delay` gives the wait after so many consecutive failures.
    /// Returns the failure now in force.
    mutating func storeRefused(at: Date, error: String, delay: (_ failures: Int) -> Duration) -> StoreWriteFailure {
        let failures = (storeFailure?.failures ?? 0) + 1
        let failure = StoreWriteFailure(
            failingSince: storeFailure?.failingSince ?? at, failures: failures, lastError: error,
            nextCheckAt: at.addingTimeInterval(delay(failures).secondsDouble)
        )
        storeFailure = failure
        return failure
    }
}
