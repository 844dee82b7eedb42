import AsyncHTTPClient
import Foundation
import Logging
import M365Emulator
import MicrosoftCloud
import Testing
import TenantSyncCore
import TenantSyncDaemon
import TestSupport

/// Pacing against the emulator with its resource-unit buckets enforced, on one clock shared with the pacer.
@Suite("Graph pacing against the emulator", .serialized)
struct GraphPacingSyncTests {
    /// A clock whose sleeps move time, for the pacer and the emulator's buckets alike: whoever sleeps until a
    /// deadline finds the time there when it wakes, and the emulator has refilled for exactly that long.
    final class LockstepClock: Clock, Sendable {
        typealias Instant = ManualClock.Instant
        let manual = ManualClock()
        let emulator: M365Emulator

        init(emulator: M365Emulator) { self.emulator = emulator }

        var now: Instant { manual.now }
        var minimumResolution: Duration { .zero }

        func sleep(until deadline: Instant, tolerance: Duration?) async throws {
            let step = manual.now.duration(to: deadline)
            guard step > .zero else { return }
            manual.advance(by: step)
            try emulator.advanceClock(by: Double(step.components.seconds) + Double(step.components.attoseconds) / 1e18)
        }
    }

    static func synchronizer(_ fixture: SyncFixture, pacer: (any GraphRequestPacer)?) -> DirectorySynchronizer {
        var graph = GraphClient(graphRoot: fixture.url.absoluteString, http: HTTPClient.shared, requestTimeout: .seconds(10), logger: Logger(label: "test"))
        graph.pacer = pacer
        return DirectorySynchronizer(store: fixture.store, graph: graph, tokens: fixture.tokens, settings: .init(), logger: Logger(label: "test"))
    }

    static func withEmulator(_ body: @Sendable (SyncFixture) async throws -> Void) async throws {
        // Throttling enforced (the emulator's default), on a clock that moves only when the pacer sleeps.
        let configuration = EmulatorConfiguration(tenants: 1, usersPerTenant: 60, groupsPerTenant: 12, seed: 11, manualClockStart: 1_800_000_000)
        try await M365Emulator.withRunning(configuration: configuration, logger: Logger(label: "emulator")) { emulator, url in
            let fixture = try await SyncFixture(emulator: emulator, url: url)
            defer { fixture.cleanUp() }
            try await body(fixture)
        }
    }

    @Test func aTenantWithASmallBudgetIsNeverThrottledByOurTraffic() async throws {
        try await Self.withEmulator { fixture in
            let tenant = fixture.tenant.id
            // 10 RU per 10 s for this tenant, and a group round of many small pages: about twice the bucket.
            _ = try fixture.emulator.updateSettings(tenant: tenant, TenantSettingsPatch(resourceUnitsPer10Seconds: 10, deltaMembersPerPage: 5))
            let clock = LockstepClock(emulator: fixture.emulator)
            // The pacer knows only the documented size classes: 3,500 RU until the first users page shows 60 users,
            // then 5,000. A share of 5 / 5,000 gives at most 5 RU per 10 s, half of what this tenant allows.
            let pacer = GraphPacer(share: 5.0 / 5_000, clock: clock)
            let run = try await Self.synchronizer(fixture, pacer: pacer).run(tenantID: tenant, service: nil, trigger: .daily)
            #expect(run.state == .succeeded)
            let usage = try fixture.emulator.usage(tenant: tenant)
            #expect(usage.total.requests > 10, "the run must need more than one bucket: \(usage.total.requests) requests")
            #expect(usage.total.throttled == 0, "\(usage.total.throttled) of \(usage.total.requests) requests were throttled")
            #expect(clock.now.offset >= .seconds(Int64(usage.total.resourceUnits - 5) * 2), "5 RU per 10 s: \(usage.total.resourceUnits) RU need time")
            #expect(usage.total.requestsByPriority == ["low": usage.total.requests], "a daily run is background work: \(usage.total.requestsByPriority)")
        }
    }

    @Test func thePerAppBudgetCapsTheSumOfTwoTenantsAndNeitherIsThrottled() async throws {
        // 20 RU per 20 s for the whole app; two tenants whose group rounds need about twice that together.
        let configuration = EmulatorConfiguration(
            tenants: 2, usersPerTenant: 60, groupsPerTenant: 12, seed: 11, applicationResourceUnitsPer20Seconds: 20,
            manualClockStart: 1_800_000_000
        )
        try await M365Emulator.withRunning(configuration: configuration, logger: Logger(label: "emulator")) { emulator, url in
            let fixture = try await SyncFixture(emulator: emulator, url: url)
            defer { fixture.cleanUp() }
            let tenants = emulator.tenants()
            for tenant in tenants {
                try await fixture.store.upsertTenant(id: tenant.id, domain: tenant.domain, displayName: tenant.displayName)
                _ = try emulator.updateSettings(tenant: tenant.id, TenantSettingsPatch(deltaMembersPerPage: 5))
            }
            let clock = LockstepClock(emulator: emulator)
            let synchronizer = Self.synchronizer(fixture, pacer: GraphPacer(share: 0.5, applicationResourceUnitsPer20Seconds: 20, clock: clock))
            try await withThrowingTaskGroup(of: SyncRun.self) { group in
                for tenant in tenants {
                    group.addTask { try await synchronizer.run(tenantID: tenant.id, service: nil, trigger: .daily) }
                }
                for try await run in group { #expect(run.state == .succeeded) }
            }
            let usage = emulator.usage()
            #expect(usage.total.requests > 20, "the two runs must need more than the app's bucket: \(usage.total.requests)")
            #expect(usage.total.throttled == 0, "\(usage.total.throttled) of \(usage.total.requests) requests were throttled")
            #expect(usage.tenants.count == 2 && usage.tenants.values.allSatisfy { $0.requests > 0 })
        }
    }

    @Test func a429PausesOnlyItsTenant() async throws {
        var settings = TenantSettings()
        settings.throttlingEnabled = false
        let configuration = EmulatorConfiguration(tenants: 2, usersPerTenant: 60, groupsPerTenant: 5, seed: 13, tenantSettings: settings)
        try await M365Emulator.withRunning(configuration: configuration, logger: Logger(label: "emulator")) { emulator, url in
            let fixture = try await SyncFixture(emulator: emulator, url: url)
            defer { fixture.cleanUp() }
            let (a, b) = (emulator.tenants()[0], emulator.tenants()[1])
            try await fixture.store.upsertTenant(id: b.id, domain: b.domain, displayName: b.displayName)
            _ = try emulator.addFault(FaultRule(tenant: a.id, path: "/groups/delta", kind: .status, status: 429, retryAfterSeconds: 30, times: 1))
            let clock = ManualClock()
            let synchronizer = Self.synchronizer(fixture, pacer: GraphPacer(share: 0.25, clock: clock))

            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    let run = try await synchronizer.run(tenantID: a.id, service: nil, trigger: .daily)
                    #expect(run.state == .succeeded)
                }
                // Tenant a is paused on the pacer's clock, which stands still until the test moves it.
                #expect(try await eventually("tenant a waits out its Retry-After") { clock.sleeperCount == 1 })
                let pausedAt = clock.now
                group.addTask {
                    let other = try await synchronizer.run(tenantID: b.id, service: nil, trigger: .daily)
                    #expect(other.state == .succeeded)
                }
                // Bounded, so that a b wrongly paused with a fails here instead of hanging the suite.
                #expect(try await eventually(timeout: .seconds(10), "tenant b syncs while a is paused") {
                    try await fixture.store.syncRuns(tenantID: b.id, limit: 1).first?.state == .succeeded
                })
                #expect(clock.now == pausedAt && clock.sleeperCount == 1, "a is still paused after b finished")
                #expect(try await fixture.store.syncRuns(tenantID: a.id, limit: 1).first?.state == .running)
                clock.advance(by: .seconds(30))
                // After its pause a resumes from an empty bucket at half rate: move the clock whenever it waits.
                while try await [a.id, b.id].asyncContains({ try await fixture.store.syncRuns(tenantID: $0, limit: 1).first?.state == .running }) {
                    if clock.sleeperCount > 0 { clock.advance(by: .milliseconds(100)) } else { await Task.yield() }
                }
                try await group.waitForAll()
            }
            #expect(clock.requestedSleeps.first == .seconds(30), "a waited its Retry-After first: \(clock.requestedSleeps)")
            #expect(emulator.requestLog(tenant: a.id).filter { $0.status == 429 }.count == 1, "a's one 429, retried after the pause")
            #expect(emulator.requestLog(tenant: b.id).allSatisfy { $0.status != 429 })
        }
    }

    @Test func aFirstSyncIsPacedAtTheSmallestClassOnlyUntilItsFirstUsersPage() async throws {
        // 2,000 users: a large tenant, which nobody knows before its first sync stores them. Members come 50 to a
        // page, so the group round is many requests that run while the users are read.
        let configuration = EmulatorConfiguration(tenants: 1, usersPerTenant: 2_000, groupsPerTenant: 40, seed: 11, manualClockStart: 1_800_000_000)
        try await M365Emulator.withRunning(configuration: configuration, logger: Logger(label: "emulator")) { emulator, url in
            let fixture = try await SyncFixture(emulator: emulator, url: url)
            defer { fixture.cleanUp() }
            let tenant = fixture.tenant.id
            _ = try emulator.updateSettings(tenant: tenant, TenantSettingsPatch(deltaMembersPerPage: 50))
            let clock = LockstepClock(emulator: emulator)
            // A share that leaves 4 RU per 10 s of the smallest class (3,500) and about 9 of the largest (8,000).
            let run = try await Self.synchronizer(fixture, pacer: GraphPacer(share: 4.0 / 3_500, clock: clock))
                .run(tenantID: tenant, service: nil, trigger: .daily)
            #expect(run.state == .succeeded)
            let usage = try emulator.usage(tenant: tenant)
            #expect(usage.total.resourceUnits > 40, "the run must need many buckets: \(usage.total.resourceUnits) RU")
            #expect(usage.total.throttled == 0)
            // Paced at the smallest class throughout, the RU beyond the first bucket would take 2.5 s each.
            let smallest = Double(usage.total.resourceUnits - 4) * 2.5
            let took = Double(clock.now.offset.components.seconds)
            #expect(took < smallest * 0.6, "\(usage.total.resourceUnits) RU took \(took) s; at the smallest class \(smallest) s")
        }
    }

    @Test func anOperatorTriggeredRunSendsNormalPriority() async throws {
        try await Self.withEmulator { fixture in
            let tenant = fixture.tenant.id
            _ = try fixture.emulator.updateSettings(tenant: tenant, TenantSettingsPatch(throttlingEnabled: false))
            let run = try await Self.synchronizer(fixture, pacer: nil).run(tenantID: tenant, service: nil, trigger: .manual)
            #expect(run.state == .succeeded)
            let usage = try fixture.emulator.usage(tenant: tenant)
            #expect(usage.total.requests > 0 && usage.total.requestsByPriority == ["normal": usage.total.requests], "\(usage.total.requestsByPriority)")
        }
    }
}

extension Array {
    fileprivate func asyncContains(_ predicate: (Element) async throws -> Bool) async rethrows -> Bool {
        for element in self where try await predicate(element) { return true }
        return false
    }
}
