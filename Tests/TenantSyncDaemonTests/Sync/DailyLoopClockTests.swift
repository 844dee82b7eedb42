import Foundation
import Logging
import Synchronization
import Testing
import TestSupport
import TenantSyncCore
@testable import TenantSyncDaemon

/// The scheduler's daily loop waits on the clock it is given, so a test moves it without sleeping.
@Suite("Daily loop on an injected clock", .serialized)
struct DailyLoopClockTests {
    @Test func theLoopWaitsOnTheInjectedClockUntilTheSlotAndThenSubmitsTheDailySync() async throws {
        try await SyncFixture.with(users: 20) { fixture in
            try await SyncSchedulingTests.activeAccount(fixture)
            let coordinator = SyncCoordinator()
            let probe = try SyncSchedulingTests.scheduler(fixture, coordinator)
            let day = 86_400.0
            let midnight = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / day).rounded(.down) * day)
            let slot = midnight + probe.schedule.offset(tenantID: fixture.tenant.id).secondsValue + 7_200
            let due = slot + probe.jitter(tenantID: fixture.tenant.id, on: slot).secondsValue

            let wallClock = Mutex(due - 30)
            let clock = ManualClock()
            let scheduler = SyncScheduler(
                coordinator: coordinator, synchronizer: fixture.synchronizer(), store: fixture.store, settings: try SyncSchedulingTests.settings(),
                heartbeat: Heartbeat(), now: { wallClock.withLock { $0 } }, clock: clock, logger: Logger(label: "test")
            )
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await scheduler.run() }
                let waiting = try await eventually("the daily loop sleeps on the manual clock") { clock.sleeperCount == 1 }
                try #require(waiting, "the daily loop did not sleep on the injected clock")
                #expect(clock.requestedSleeps == [.seconds(30)], "the loop waits until the tenant's slot, 30 s away")
                #expect(try await fixture.store.syncRuns(tenantID: fixture.tenant.id, limit: 10).isEmpty, "nothing ran before the slot")

                wallClock.withLock { $0 = due + 1 }
                clock.advance(by: .seconds(30))
                let ran = try await eventually("the daily sync ran") {
                    try await fixture.store.syncRuns(tenantID: fixture.tenant.id, limit: 10).contains { $0.trigger == .daily && $0.state == .succeeded }
                }
                #expect(ran, "the daily sync did not run once the clock reached the slot")
                group.cancelAll()
            }
        }
    }
}
