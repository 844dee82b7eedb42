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
    /// The cluster's leases when several daemons share the store: a tenant is synced only under its lease.
    let leasing: (any WorkLeasing)?
    /// Every tenant's due date between changes; `nil` when the store does not report changes (each pass reads).
    private let keptDueDates: ScheduleDueDates?
    private let observation: StoreObservation?

    public init(
        coordinator: SyncCoordinator, synchronizer: DirectorySynchronizer, store: any AccountStore & DirectoryStore,
        settings: RuntimeSettings, heartbeat: Heartbeat, now: @escaping @Sendable () -> Date = { Date() },
        clock: any Clock<Duration> = ContinuousClock(), changes: (any ScheduleChangeSource)? = nil,
        leasing: (any WorkLeasing)? = nil, logger: Logger
    ) {
        self.leasing = leasing
        self.coordinator = coordinator
        self.synchronizer = synchronizer
        self.store = store
        self.settings = settings
        self.heartbeat = heartbeat
        self.now = now
        self.clock = clock
        self.logger = logger
        // Due dates are kept between changes only when the store reports the changes.
        if let changes {
            let kept = ScheduleDueDates()
            keptDueDates = kept
            observation = changes.observeScheduleChanges { kept.invalidate() }
        } else {
            keptDueDates = nil
            observation = nil
        }
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
        guard let leasing else {
            await coordinator.finished(tenantID: request.tenantID, result: await runSync(request))
            return
        }
        let result: Result<SyncRun, any Error>
        do {
            result = try await executeLeased(request, leasing)
        } catch {
            result = .failure(error)
        }
        await coordinator.finished(tenantID: request.tenantID, result: result)
    }

    /// A run under the tenant's lease: claimed first (another node may be syncing it), a daily run checked again
    /// for being due once the lease is held (another node may have just run it), the lease released at the end.
    private func executeLeased(_ request: SyncCoordinator.Request, _ leasing: any WorkLeasing) async throws -> Result<SyncRun, any Error> {
        var followed = 0
        var lease: Lease?
        while lease == nil {
            lease = try await leasing.claim(kind: .sync, keys: [request.tenantID], limit: 1).first
            if lease != nil { break }
            // Another node syncs the tenant: a daily run is its business; an operator's request follows that run.
            guard request.trigger != .daily, followed < Self.followAttempts else {
                return .failure(Self.syncingElsewhere(request.tenantID))
            }
            followed += 1
            if let run = try await followRunElsewhere(tenantID: request.tenantID) {
                // A full read asked here (extend, `sync --full`) is not served by another node's delta run, as on one
                // node (`SyncCoordinator.submit`): once that run has ended, claim again and read everything.
                if request.forceFull, run.mode != .full { continue }
                logger.notice(
                    "Sync asked here joined the run of another node", metadata: ["tenant.id": "\(request.tenantID)", "sync.run": "\(run.id)"]
                )
                return .success(run)
            }
        }
        guard let lease else { return .failure(Self.syncingElsewhere(request.tenantID)) }
        let result: Result<SyncRun, any Error>
        if request.trigger == .daily, try await !isStillDue(tenantID: request.tenantID) {
            logger.debug("Daily sync already run by another node", metadata: ["tenant.id": "\(request.tenantID)"])
            result = .failure(Self.syncingElsewhere(request.tenantID))
        } else {
            result = await runSync(request, lease: lease, leasing: leasing)
        }
        await leasing.release([lease])
        return result
    }

    /// How many times a request asked on this node looks for another node's run (or for the lease to be free).
    static let followAttempts = 10
    /// How often the run of another node is read while it is followed.
    static let followInterval: Duration = .seconds(1)

    /// Follows the tenant's run going on another node through its row, publishing its progress here, until it ends;
    /// `nil` when no run of the tenant is going (its node is about to start one, or just ended it: claim again).
    private func followRunElsewhere(tenantID: String) async throws -> SyncRun? {
        guard var run = try await store.syncRuns(tenantID: tenantID, limit: 1).first, run.state == .running else {
            try await clock.sleep(for: Self.followInterval)
            return nil
        }
        while run.state == .running {
            await coordinator.publish(
                SyncProgress(runID: run.id, tenantID: tenantID, mode: run.mode, phase: "on another node", pages: run.pages, counts: run.counts)
            )
            try await clock.sleep(for: Self.followInterval)
            guard let current = try await store.syncRun(id: run.id) else { return nil }
            run = current
        }
        return run
    }

    /// Whether the tenant's daily run is due now, read from the store (the runs other nodes recorded count).
    private func isStillDue(tenantID: String) async throws -> Bool {
        guard let tenant = try await store.scheduledTenants(onlyTenantID: tenantID).first else { return false }
        return nextDue(tenant, now: now()) <= now()
    }

    static func syncingElsewhere(_ tenantID: String) -> TenantSyncError {
        TenantSyncError(
            TenantSyncError.Code(rawValue: "TemporaryFailure"),
            "Another node of the cluster is syncing this tenant now (or just did); ask again when its run has ended.",
            context: ["tenant.id": tenantID]
        )
    }

    /// Runs the synchronizer; under a lease, the run is cancelled as soon as the node no longer holds it.
    private func runSync(_ request: SyncCoordinator.Request, lease: Lease? = nil, leasing: (any WorkLeasing)? = nil) async -> Result<SyncRun, any Error> {
        guard let lease, let leasing else { return await runSync(request) }
        let fence = DirectorySynchronizer.SyncFence(lease: lease, store: leasing.leaseStore)
        return await withTaskGroup(of: Result<SyncRun, any Error>?.self) { group in
            group.addTask { await self.runSync(request, fence: fence) }
            group.addTask {
                // Checked at the keeper's pace: the node stops trusting a lease a safety margin before it ends.
                while leasing.holds(lease) {
                    do { try await Task.sleep(for: Self.leaseCheckInterval) } catch { return nil }
                }
                return .failure(lease.lostError)
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            // The run was cancelled for a lost lease: wait for it to end before the lease error is reported.
            var result = first
            while let next = await group.next() { if result == nil { result = next } }
            return result ?? .failure(CancellationError())
        }
    }

    /// How often a leased run checks that its lease is still held.
    static let leaseCheckInterval: Duration = .milliseconds(500)

    private func runSync(_ request: SyncCoordinator.Request, fence: DirectorySynchronizer.SyncFence? = nil) async -> Result<SyncRun, any Error> {
        let coordinator = self.coordinator
        let result: Result<SyncRun, any Error>
        do {
            let run = try await synchronizer.run(
                tenantID: request.tenantID, service: request.service, trigger: request.trigger, forceFull: request.forceFull, fence: fence,
                progress: { progress in await coordinator.publish(progress) }
            )
            result = .success(run)
        } catch {
            result = .failure(error)
        }
        return result
    }

    /// Submits daily syncs as they fall due; sleeps in between (at most a minute, so a
    /// changed wall clock or a reload is noticed).
    private func dailyLoop() async {
        while !Task.isCancelled {
            heartbeat.beat()
            var wait: Duration = .seconds(60)
            do {
                if leasing != nil {
                    // A node that died mid-run left its run `running`; once its lease ended, any node closes the run.
                    let interrupted = try await store.failInterruptedSyncRuns(at: now())
                    if interrupted > 0 {
                        logger.warning("Sync runs interrupted on a node that stopped were marked failed", metadata: ["sync.interrupted": "\(interrupted)"])
                    }
                }
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

    /// Plans from at most one store query, whatever the number of tenants: the due dates are a pure function
    /// of each tenant's last run start and its jitter, kept between changes (``ScheduleDueDates``).
    public func plan(now: Date) async throws -> Plan {
        var plan = Plan(due: [], next: nil)
        var due: [ScheduledTenant] = []
        for entry in try await dueDates(now: now) {
            if entry.at > now {
                plan.next = entry.at
                break
            }
            due.append(entry.tenant)
        }
        // Due tenants in the store's order (by domain), as each pass has always submitted them.
        for tenant in due.sorted(by: { $0.domain < $1.domain }) where await !coordinator.isBusy(tenantID: tenant.tenantID) {
            plan.due.append(.init(tenantID: tenant.tenantID, trigger: .daily))
        }
        return plan
    }

    /// Every scheduled tenant's due date as of `now`, earliest first: kept ones, or one query.
    func dueDates(now: Date) async throws -> [(tenant: ScheduledTenant, at: Date)] {
        let schedule = self.schedule
        let compute = {
            try await self.store.scheduledTenants(onlyTenantID: nil).map { tenant in
                (tenant: tenant, at: self.nextDue(tenant, now: now, schedule: schedule))
            }
        }
        guard let keptDueDates else {
            let computed = try await compute()
            let order = computed.indices.sorted { (computed[$0].at, $0) < (computed[$1].at, $1) }
            return order.map { computed[$0] }
        }
        return try await keptDueDates.dates(day: Self.day(of: now), schedule: schedule, compute: compute).entries
    }

    /// The UTC day number of `date`: the jitter and a never-synced tenant's slot change with it.
    static func day(of date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 / 86_400).rounded(.down))
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

    /// The scheduled tenant whose daily sync comes first (possibly already due), and when. At most one query.
    public func firstDue(now: Date) async throws -> (tenant: ScheduledTenant, at: Date)? {
        try await dueDates(now: now).first
    }

    /// The tenant's daily due time as of `now`: a pure function of its last run start and its jitter.
    func nextDue(_ tenant: ScheduledTenant, now: Date, schedule: DailySyncSchedule? = nil) -> Date {
        let schedule = schedule ?? self.schedule
        return schedule.nextDue(
            tenantID: tenant.tenantID, lastRun: tenant.lastRunStartedAt, now: now, jitter: jitter(tenantID: tenant.tenantID, on: now, schedule: schedule)
        )
    }

    var schedule: DailySyncSchedule {
        let sync = settings.configuration.sync
        return DailySyncSchedule(windowStartMinutes: sync.dailyWindowStartMinutes, windowLength: sync.dailyWindowLength)
    }

    /// A jitter stable for a tenant within a day (no state to store), different from day to day.
    func jitter(tenantID: String, on date: Date, schedule: DailySyncSchedule? = nil) -> Duration {
        let schedule = schedule ?? self.schedule
        let day = Int64(date.timeIntervalSince1970 / 86_400)
        let hash = FNV1a.hash(tenantID.utf8, startingAt: 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: day))
        let bound = UInt64(max(schedule.maximumJitter.wholeSeconds, 0)) + 1
        return .seconds(Int64(hash % bound))
    }
}
