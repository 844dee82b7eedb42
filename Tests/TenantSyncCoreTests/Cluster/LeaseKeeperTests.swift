import Foundation
import TenantSyncCore
import TestSupport
import Testing

/// The lease keeper's decisions on a manual clock: when it renews, when it gives a lease up, which answers it ignores.
@Suite struct LeaseKeeperTests {
    typealias Keeper = LeaseKeeper<ManualClock>

    static func lease(_ key: String = "42", epoch: Int64 = 1, holder: String = "node-a") -> Lease {
        Lease(kind: .tokenRefresh, key: key, holder: holder, epoch: epoch, expiresAt: Date(timeIntervalSince1970: 1_000))
    }

    @Test func renewsAtAThirdOfTheLeaseDurationAndOnlyOnceWhileTheRenewalIsOut() {
        let clock = ManualClock()
        var keeper = Keeper(configuration: .init(leaseDuration: .seconds(30)))
        keeper.claimed([Self.lease()], sentAt: clock.now)

        clock.advance(by: .milliseconds(9_999))
        let early = keeper.tick(now: clock.now)
        #expect(early.renew.isEmpty, "renewed before a third of the duration")
        #expect(early.nextTick == clock.now.advanced(by: .milliseconds(1)), "the next tick is not the renewal instant")

        clock.advance(by: .milliseconds(1))
        #expect(keeper.tick(now: clock.now).renew == [Self.lease()], "no renewal at a third of the duration")
        clock.advance(by: .seconds(1))
        #expect(keeper.tick(now: clock.now).renew.isEmpty, "a second renewal was sent while the first is out")

        // Answered: the next renewal counts from when this one was sent.
        let sent = clock.now.advanced(by: .seconds(-1))
        #expect(keeper.renewalAnswered(LeaseRenewal(renewed: [Self.lease()], lost: []), sentAt: sent).isEmpty)
        clock.advance(by: .milliseconds(8_999))
        #expect(keeper.tick(now: clock.now).renew.isEmpty)
        clock.advance(by: .milliseconds(1))
        #expect(keeper.tick(now: clock.now).renew == [Self.lease()], "no renewal a third of the duration after the last one was sent")
    }

    @Test func aLeaseWhoseRenewalsFailIsGivenUpASafetyMarginBeforeItsEnd() {
        let clock = ManualClock()
        let configuration = Keeper.Configuration(leaseDuration: .seconds(30))
        #expect(configuration.safetyMargin == .seconds(5))
        var keeper = Keeper(configuration: configuration)
        let claimedAt = clock.now
        keeper.claimed([Self.lease()], sentAt: claimedAt)

        // Every renewal fails (the store is unreachable): retried every retryAfter while the lease is trusted.
        var attempts = 0
        while true {
            let actions = keeper.tick(now: clock.now)
            if !actions.lost.isEmpty {
                #expect(actions.lost == [Self.lease()])
                break
            }
            if !actions.renew.isEmpty {
                attempts += 1
                keeper.renewalFailed(actions.renew, at: clock.now)
            }
            #expect(keeper.holds(Self.lease(), at: clock.now))
            guard let next = keeper.nextTick else {
                Issue.record("nothing left to do while the lease is held")
                return
            }
            clock.advance(by: clock.now.duration(to: next))
        }
        #expect(claimedAt.duration(to: clock.now) == .seconds(25), "given up at \(claimedAt.duration(to: clock.now)), not 25 s after the claim")
        #expect(attempts == 5, "renewal attempts: \(attempts) (at 10 s, then every 3 s until the lease is given up)")
        #expect(!keeper.holds(Self.lease(), at: clock.now))
        #expect(keeper.leases.isEmpty)
        #expect(keeper.tick(now: clock.now).nextTick == nil)
    }

    @Test func aLeaseTheStoreReportsLostStopsAtOnceAndALateAnswerDoesNotRevive() {
        let clock = ManualClock()
        var keeper = Keeper(configuration: .init(leaseDuration: .seconds(30)))
        let kept = Self.lease("1")
        let taken = Self.lease("2")
        keeper.claimed([kept, taken], sentAt: clock.now)
        clock.advance(by: .seconds(10))
        let sent = clock.now
        #expect(keeper.tick(now: sent).renew == [kept, taken])
        let lost = keeper.renewalAnswered(LeaseRenewal(renewed: [kept], lost: [taken]), sentAt: sent)
        #expect(lost == [taken])
        #expect(keeper.holds(kept, at: clock.now))
        #expect(!keeper.holds(taken, at: clock.now), "work continued under a lease the store said was lost")

        // A renewal answered after the keeper gave the lease up locally does not make it held again.
        clock.advance(by: .seconds(30))
        #expect(keeper.tick(now: clock.now).lost == [kept])
        _ = keeper.renewalAnswered(LeaseRenewal(renewed: [kept], lost: []), sentAt: sent)
        #expect(!keeper.holds(kept, at: clock.now), "a late answer revived a lease given up")
    }

    @Test func answersAboutAnEarlierEpochOfTheSameItemAreIgnored() {
        let clock = ManualClock()
        var keeper = Keeper(configuration: .init(leaseDuration: .seconds(30)))
        let old = Self.lease(epoch: 1)
        let new = Self.lease(epoch: 2)
        keeper.claimed([old], sentAt: clock.now)
        keeper.released([old])
        keeper.claimed([new], sentAt: clock.now)
        // The store reports the old epoch lost (as it is): the new claim of the same grant stays held.
        #expect(keeper.renewalAnswered(LeaseRenewal(renewed: [], lost: [old]), sentAt: clock.now).isEmpty)
        keeper.released([old])
        #expect(keeper.holds(new, at: clock.now), "an answer about epoch 1 ended the lease of epoch 2")
        #expect(!keeper.holds(old, at: clock.now), "the released epoch is still held")
        #expect(keeper.leases == [new])
    }
}
