import Logging
import MicrosoftCloud
import Systemd
import Testing
import TestSupport
import TenantSyncCore
@testable import TenantSyncDaemon

/// The status reporter refreshes systemd's status line on the clock it is given, so a test moves it without sleeping.
@Suite("Status reporter on an injected clock", .serialized)
struct StatusReporterClockTests {
    @Test func theStatusLineIsRecomputedEachTimeTheInjectedClockPassesTheInterval() async throws {
        try await ContosoStore.with(tenantID: "contoso") { store, http in
            let logger = Logger(label: "test")
            let synchronizer = DirectorySynchronizer(
                store: store, graph: GraphClient(graphRoot: "http://127.0.0.1:9", http: http, logger: logger), tokens: GatedTokenSource(),
                settings: .init(), logger: logger
            )
            let scheduler = SyncScheduler(
                coordinator: SyncCoordinator(), synchronizer: synchronizer, store: store, settings: try SyncSchedulingTests.settings(),
                heartbeat: Heartbeat(), logger: logger
            )
            let clock = ManualClock()
            let reporter = StatusReporter(
                store: store, scheduler: scheduler, deliveryHealth: { .init() }, notifier: SystemdNotifier(), interval: .seconds(15),
                clock: clock, logger: logger
            )
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await reporter.run() }
                let first = try await eventually("the reporter waits on the manual clock") { clock.sleeperCount == 1 }
                try #require(first, "the status reporter did not wait on the injected clock")
                #expect(clock.requestedSleeps == [.seconds(15)], "it waits one interval between lines")
                clock.advance(by: .seconds(15))
                let second = try await eventually("the reporter computed the next line and waits again") { clock.requestedSleeps.count == 2 }
                #expect(second, "moving the injected clock by one interval did not start the next status line")
                group.cancelAll()
            }
        }
    }
}
