import Testing
import TestSupport
@testable import MicrosoftCloud

/// The pacing state machine on a manual clock: buckets by size class and share, per tenant, capped per app,
/// adapting to Microsoft's headers, a 429 pausing only its tenant.
@Suite("Graph pacing state")
struct GraphPacingStateTests {
    typealias State = GraphPacingState<ManualClock>
    let t0 = ManualClock.Instant(offset: .zero)

    func at(_ milliseconds: Int64) -> ManualClock.Instant { t0.advanced(by: .milliseconds(milliseconds)) }

    /// Admits `count` requests of `cost` at `now`; returns how many went before the first wait.
    func burst(_ state: inout State, tenant: String, users: Int?, cost: Int = 1, count: Int, now: ManualClock.Instant) -> Int {
        for sent in 0..<count where state.admit(tenant: tenant, users: users, cost: cost, now: now) != .send { return sent }
        return count
    }

    @Test(arguments: [(nil, 3_500), (0, 3_500), (49, 3_500), (50, 5_000), (500, 5_000), (501, 8_000), (300_000, 8_000)] as [(Int?, Int)])
    func sizeClassesAreMicrosofts(users: Int?, quota: Int) {
        #expect(State.tenantResourceUnitsPer10Seconds(users: users) == quota)
    }

    @Test func aTenantSpendsAtMostItsShareThenWaitsForTheRefill() {
        var state = State(share: 0.25)
        #expect(burst(&state, tenant: "a", users: 10, count: 2_000, now: t0) == 875, "a quarter of 3,500 RU")
        // 875 RU per 10 s refill 87.5 RU/s: one more RU in 1/87.5 s, rounded up to 12 ms.
        #expect(state.admit(tenant: "a", users: 10, cost: 1, now: t0) == .wait(until: at(12)))
        #expect(state.admit(tenant: "a", users: 10, cost: 1, now: at(12)) == .send)
        // Ten seconds later the bucket is full again, not fuller.
        #expect(burst(&state, tenant: "a", users: 10, count: 2_000, now: at(20_000)) == 875)
    }

    @Test func twoTenantsDoNotShareABudget() {
        var state = State(share: 0.25)
        #expect(burst(&state, tenant: "a", users: 10, count: 2_000, now: t0) == 875)
        #expect(burst(&state, tenant: "b", users: 600, count: 3_000, now: t0) == 2_000, "a quarter of 8,000 RU, untouched by a")
    }

    @Test func thePerAppBudgetCapsTheSumAcrossTenants() {
        var state = State(share: 0.5, applicationResourceUnitsPer20Seconds: 3_000)
        #expect(burst(&state, tenant: "a", users: 600, count: 1_000, now: t0) == 1_000)
        #expect(burst(&state, tenant: "b", users: 600, count: 1_000, now: t0) == 500, "half of the app's 3,000 RU, a's 1,000 included")
        // The app bucket refills 1,500 RU per 20 s = 75 RU/s: one RU in 14 ms (rounded up).
        #expect(state.admit(tenant: "c", users: 600, cost: 1, now: t0) == .wait(until: at(14)))
    }

    @Test func aFirstSyncLearnsTheSizeClassFromWhatItReadAndNeverFallsBack() {
        var state = State(share: 0.25)
        // Size unknown (no users stored yet): the smallest class, 875 RU of a 3,500 RU budget.
        #expect(burst(&state, tenant: "a", users: 0, count: 500, now: t0) == 500)
        // The first users page had 999 users and a next link: the tenant is a large one (8,000 RU, a quarter 2,000).
        state.learnedUsers(tenant: "a", atLeast: 1_000, now: t0)
        #expect(burst(&state, tenant: "a", users: 0, count: 3_000, now: t0) == 1_500, "the rest of the large bucket, not of the small one")
        // The store still counts 0 users until the sync commits; what was read is not forgotten.
        #expect(burst(&state, tenant: "a", users: 0, count: 3_000, now: at(10_000)) == 2_000)
        // Learned before a tenant's first request: its bucket starts at the learned class.
        state.learnedUsers(tenant: "b", atLeast: 600, now: t0)
        #expect(burst(&state, tenant: "b", users: nil, count: 3_000, now: t0) == 2_000)
        // Learning never lowers a class.
        state.learnedUsers(tenant: "b", atLeast: 10, now: t0)
        #expect(burst(&state, tenant: "b", users: nil, count: 3_000, now: at(10_000)) == 2_000)
    }

    @Test func aThrottledTenantWaitsItsRetryAfterAndOthersDoNot() {
        var state = State(share: 0.25)
        #expect(state.admit(tenant: "a", users: 10, cost: 1, now: t0) == .send)
        #expect(state.admit(tenant: "b", users: 10, cost: 1, now: t0) == .send)
        state.throttled(tenant: "a", retryAfter: .seconds(7), now: t0)
        #expect(state.admit(tenant: "a", users: 10, cost: 1, now: at(1_000)) == .wait(until: at(7_000)))
        #expect(state.admit(tenant: "b", users: 10, cost: 1, now: at(1_000)) == .send, "a 429 for a pauses a only")
        // After the pause a resumes at half rate from an empty bucket: 43.75 RU/s for 1 s.
        #expect(burst(&state, tenant: "a", users: 10, count: 1_000, now: at(8_000)) == 43)
    }

    @Test func theChargeIsWhatMicrosoftSaysItCost() {
        var state = State(share: 0.25)
        #expect(burst(&state, tenant: "a", users: 10, count: 870, now: t0) == 870)
        state.answered(tenant: "a", reserved: 1, charged: 5, limitPercentage: nil, now: t0)
        #expect(burst(&state, tenant: "a", users: 10, count: 100, now: t0) == 1, "875 − 870 − 4 leaves one RU")
    }

    @Test func aRisingLimitPercentageEmptiesTheBucketAndSlowsTheRefill() {
        var state = State(share: 0.25)
        #expect(state.admit(tenant: "a", users: 10, cost: 1, now: t0) == .send)
        state.answered(tenant: "a", reserved: 1, charged: 1, limitPercentage: 0.9, now: t0)
        #expect(state.admit(tenant: "a", users: 10, cost: 1, now: t0) == .wait(until: at(23)), "empty, refilling at 43.75 RU/s")
        state.answered(tenant: "a", reserved: 1, charged: 1, limitPercentage: 1.2, now: t0)
        #expect(state.admit(tenant: "a", users: 10, cost: 1, now: t0) == .wait(until: at(46)), "halved again: 21.875 RU/s")
    }

    @Test(arguments: [
        ("https://g/v1.0/users?$select=id,mail&$top=999", 1), ("https://g/v1.0/users", 2), ("https://g/v1.0/users/delta?$select=id", 1),
        ("https://g/v1.0/groups/delta?$select=displayName,mail,members", 1), ("https://g/v1.0/groups/x/members?$select=id", 2),
        ("https://g/v1.0/groups/x/transitiveMembers", 5), ("https://g/v1.0/groups/x/members?$top=5", 2),
    ])
    func theEstimateFollowsTheDocumentedCosts(url: String, cost: Int) {
        #expect(GraphResourceUnits.estimate(url) == cost)
    }
}
