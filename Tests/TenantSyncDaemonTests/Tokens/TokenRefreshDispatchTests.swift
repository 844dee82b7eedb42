import Foundation
import TenantSyncCore
import Testing
@testable import TenantSyncDaemon

/// The token refresher's in-flight bookkeeping, without a store, a clock or Microsoft: state in, actions out.
@Suite("Token refresh dispatch state machine")
struct TokenRefreshDispatchTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("A round reads enough due grants to see past the busy ones, and starts at most the free slots")
    func roundRespectsTheBound() {
        var state = TokenRefreshDispatch()
        state.started(1)
        state.deferGrant(2, until: t0 + 60)
        let action = state.beginRound(at: t0, maxInFlight: 3)
        #expect(action == .readDue(limit: 4, busy: [1, 2], capacity: 2, deferred: [2: t0 + 60]))
        guard case .readDue(_, let busy, let capacity, _) = action else { return }
        #expect(TokenRefreshDispatch.ready([1, 2, 3, 4, 5], busy: busy, capacity: capacity) == [3, 4], "busy grants are skipped, the bound holds")
    }

    @Test("Full: the loop waits for a finishing refresh; a finished one frees its slot and is counted")
    func fullWaitsForWake() {
        var state = TokenRefreshDispatch()
        state.started(1)
        state.started(2)
        #expect(state.beginRound(at: t0, maxInFlight: 2) == .waitForWake)
        #expect(state.peakInFlight == 2)
        state.finished(1)
        #expect(state.completed == 1 && state.inFlight == [2])
        #expect(state.beginRound(at: t0, maxInFlight: 2) == .readDue(limit: 2, busy: [2], capacity: 1, deferred: [:]))
        #expect(state.peakInFlight == 2, "the peak is kept")
    }

    @Test("A deferred grant is busy until its date, then forgotten")
    func deferralExpires() {
        var state = TokenRefreshDispatch()
        state.deferGrant(7, until: t0 + 30)
        #expect(state.beginRound(at: t0 + 29, maxInFlight: 1) == .readDue(limit: 2, busy: [7], capacity: 1, deferred: [7: t0 + 30]))
        #expect(state.beginRound(at: t0 + 30, maxInFlight: 1) == .readDue(limit: 1, busy: [], capacity: 1, deferred: [:]))
        #expect(state.deferredUntil.isEmpty)
    }

    @Test("A refusing store pauses rounds until its next check; failures accumulate; an accepted probe ends the episode once")
    func storeFailureEpisode() {
        var state = TokenRefreshDispatch()
        let first = state.storeRefused(at: t0, error: "disk full", delay: { .seconds(10 * $0) })
        #expect(first.failures == 1 && first.failingSince == t0 && first.nextCheckAt == t0 + 10)
        #expect(state.beginRound(at: t0 + 4, maxInFlight: 5) == .pauseForStore(.seconds(6)))
        let second = state.storeRefused(at: t0 + 10, error: "disk full", delay: { .seconds(10 * $0) })
        #expect(second.failures == 2 && second.failingSince == t0 && second.nextCheckAt == t0 + 30)
        #expect(state.beginRound(at: t0 + 30, maxInFlight: 5) == .readDue(limit: 5, busy: [], capacity: 5, deferred: [:]), "due for a probe")
        let ended = state.storeAccepted()
        #expect(ended?.failures == 2)
        let again = state.storeAccepted()
        #expect(again == nil, "the end of an episode is reported once")
        #expect(state.storeFailure == nil)
    }

    @Test("Shutdown is remembered")
    func shutdown() {
        var state = TokenRefreshDispatch()
        #expect(!state.shuttingDown)
        state.shutDown()
        #expect(state.shuttingDown)
    }
}
