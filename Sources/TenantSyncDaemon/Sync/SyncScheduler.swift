import Foundation
import Logging
import ServiceLifecycle
import TenantSyncCore

/// Runs sync requests (a bounded number of tenants at once) and submits each
/// tenant's daily sync when its slot in the window comes.
public final class SyncScheduler: Service, Sendable {
    let coordinator: SyncCoordinator
    let synchronizer: DirectorySynchronizer
    let store: any AccountStore & DirectoryStore
    let settings: RuntimeSettings
    let now: @Sendable () -> Date
    /// Times the pauses of the daily loop; a test passes a manual clock.
    let clock: any Clock<Duration>
    let heartbeat: Heartbeat
    let logger: Logger

    public init(
        coordinator: SyncCoordinator, synchronizer: DirectorySynchronizer, store: any AccountStore & DirectoryStore,
        settings: RuntimeSettings, heartbeat: Heartbeat, now: @escaping @Sendable () -> Date = { Date() },
        clock: any Clock<Duration> = ContinuousClock(), logger: Logger
    ) {
        self.coordinator = coordinator
        self.synchronizer = synchronizer
        self.store = store
        self.settings = settings
        self.heartbeat = heartbeat
        self.now = now
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.dailyLoop() }
            for await _ in coordinator.wakeUps.cancelOnGracefulShutdown() {
                while let request = await coordinator.next(limit: settings.configuration.sync.maxConcurrentTenants) {
                    group.addTask { await self.execute(request) }
                }
            }
            group.cancelAll()
        }
        await coordinator.cancelAll()
    }

    private func execute(_ request: SyncCoordinator.Request) async {
        let coordinator = self.coordinator
        let result: Result<SyncRun, any Error>
        do {
            let run = try await synchronizer.run(
                tenantID: request.tenantID, service: request.service, trigger: request.trigger, forceFull: request.forceFull,
                progress: { progress in await coordinator.publish(progress) }
            )
            result = .success(run)
        } catch {
            result = .failure(error)
        }
        await coordinator.finished(tenantID: request.tenantID, result: result)
    }

    /// Submits daily syncs as they fall due; sleeps in between (at most a minute, so a
    /// changed wall clock or a reload is noticed).
    private func dailyLoop() async {
        while !Task.isCancelled {
            heartbeat.beat()
            var wait: Duration = .seconds(60)
            do {
                let current = now()
                let plan = try await plan(now: current)
                for request in plan.due {
                    logger.info("Daily sync due", metadata: ["tenant.id": "\(request.tenantID)"])
                    await coordinator.submit(request)
                }
                if let next = plan.next {
                    let seconds = max(next.timeIntervalSince(current), 1)
                    wait = min(.seconds(seconds), .seconds(60))
                }
            } catch {
                logger.error("Daily sync planning failed", metadata: ["error": "\(error)"])
            }
            do { try await clock.sleep(for: wait) } catch { return }
        }
    }

    /// One planning pass: the daily syncs due at `now` and the earliest due time after it.
    public struct Plan: Sendable, Equatable {
        public var due: [SyncCoordinator.Request]
        public var next: Date?
    }

    /// Plans from one store query, whatever the number of tenants: the due dates are a pure function
    /// of each tenant's last run start and its jitter.
    public func plan(now: Date) async throws -> Plan {
        var plan = Plan(due: [], next: nil)
        for tenant in try await store.scheduledTenants(onlyTenantID: nil) {
            let due = nextDue(tenant, now: now)
            if due <= now {
                if await !coordinator.isBusy(tenantID: tenant.tenantID) { plan.due.append(.init(tenantID: tenant.tenantID, trigger: .daily)) }
            } else if plan.next.map({ due < $0 }) ?? true {
                plan.next = due
            }
        }
        return plan
    }

    /// Tenants whose daily sync is due at `now`: scope `all`, at least one active account that syncs the
    /// directory, not running already.
    public func dueRequests(now: Date) async throws -> [SyncCoordinator.Request] {
        try await plan(now: now).due
    }

    /// The earliest daily due time after `now`, if any tenant is scheduled.
    public func nextDueDate(after now: Date) async throws -> Date? {
        try await plan(now: now).next
    }

    /// The tenant's next daily due time after `now`, if it is scheduled at all.
    public func nextDueDate(tenantID: String, after now: Date) async throws -> Date? {
        try await store.scheduledTenants(onlyTenantID: tenantID).first.map { nextDue($0, now: now) }
    }

    /// The scheduled tenant whose daily sync comes first (possibly already due), and when. One query.
    public func firstDue(now: Date) async throws -> (tenant: ScheduledTenant, at: Date)? {
        var first: (tenant: ScheduledTenant, at: Date)?
        for tenant in try await store.scheduledTenants(onlyTenantID: nil) {
            let due = nextDue(tenant, now: now)
            if first.map({ due < $0.at }) ?? true { first = (tenant, due) }
        }
        return first
    }

    /// The tenant's daily due time as of `now`: a pure function of its last run start and its jitter.
    func nextDue(_ tenant: ScheduledTenant, now: Date) -> Date {
        schedule.nextDue(tenantID: tenant.tenantID, lastRun: tenant.lastRunStartedAt, now: now, jitter: jitter(tenantID: tenant.tenantID, on: now))
    }

    var schedule: DailySyncSchedule {
        let sync = settings.configuration.sync
        return DailySyncSchedule(windowStartMinutes: sync.dailyWindowStartMinutes, windowLength: sync.dailyWindowLength)
    }

    /// A jitter stable for a tenant within a day (no state to store), different from day to day.
    func jitter(tenantID: String, on date: Date) -> Duration {
        let day = Int64(date.timeIntervalSince1970 / 86_400)
        let hash = FNV1a.hash(tenantID.utf8, startingAt: 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: day))
        let bound = UInt64(max(schedule.maximumJitter.wholeSeconds, 0)) + 1
        return .seconds(Int64(hash % bound))
    }
}
