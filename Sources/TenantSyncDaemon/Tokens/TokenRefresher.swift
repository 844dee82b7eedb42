import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TenantSyncCore

/// What the token refresher needs from persistent state.
public typealias TokenRefresherStorage = AccountStore & TokenStore & TokenLifecycleStore

/// Keeps every valid grant's tokens fresh, ahead of expiry.
///
/// Timer-driven: the loop sleeps until the earliest due refresh (at most
/// `maxSleep`, so that a wall-clock jump is noticed), and is woken early when
/// a grant is added or renewed, or a refresh finishes. Refreshes run in a
/// bounded task group; one grant is never refreshed twice at once. A refreshed
/// token set is committed before anyone can read its access token.
public final class TokenRefresher: Service, AccessTokenProviding {
    let storage: any TokenRefresherStorage
    let granter: any TokenGranting
    private let liveConfiguration: Mutex<TokenRefresherConfiguration>
    let logger: Logger
    let clock: any Clock<Duration>
    let now: @Sendable () -> Date
    let random: @Sendable () -> Double
    /// Counts refreshes by result and times them (the metrics endpoint); `nil`: not counted.
    let metrics: (any OperationalMetrics)?
    /// The cluster's leases when several daemons share the store: a grant is refreshed only under its lease, and
    /// every write of the refresh is fenced by it. `nil` (one daemon on its own store): the grant locks suffice.
    let leasing: (any WorkLeasing)?
    /// Shared with ``TokenRenewal`` so that a renewal never races a refresh of the same grant.
    public let locks = GrantLocks()
    private let wakeSignal = WakeSignal()
    /// The in-flight bookkeeping; its decisions are pure, the IO around them is here.
    let tracker = Mutex(TokenRefreshDispatch())

    /// - Parameters:
    ///   - clock: sleeps between due times (a manual clock in tests).
    ///   - now: the wall clock token expiry is measured on.
    ///   - random: numbers in `0..<1` for jitter.
    public init(
        storage: any TokenRefresherStorage, granter: any TokenGranting, configuration: TokenRefresherConfiguration = .init(),
        logger: Logger, clock: any Clock<Duration> = ContinuousClock(), now: @escaping @Sendable () -> Date = { Date() },
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, metrics: (any OperationalMetrics)? = nil,
        leasing: (any WorkLeasing)? = nil
    ) {
        self.storage = storage
        self.granter = granter
        self.liveConfiguration = Mutex(configuration)
        self.logger = logger
        self.clock = clock
        self.now = now
        self.random = random
        self.metrics = metrics
        self.leasing = leasing
    }

    /// Wakes the loop: a grant was added or renewed, or its schedule changed.
    public func wake() { wakeSignal.signal() }

    /// The configuration in force; each scheduling decision and each refresh reads it afresh.
    public var configuration: TokenRefresherConfiguration {
        liveConfiguration.withLock { $0 }
    }

    /// Changes the configuration (a reload): the next scheduling decision uses it.
    ///
    /// A raised in-flight bound starts waiting refreshes at once; a new margin applies to each
    /// grant's next refresh time as it is computed after its next refresh.
    public func reconfigure(_ change: (inout TokenRefresherConfiguration) -> Void) {
        liveConfiguration.withLock { configuration in
            change(&configuration)
            configuration.maxInFlight = max(1, configuration.maxInFlight)
        }
        wakeSignal.signal()
    }

    /// Set while the store refuses writes (token refreshes are paused); `nil` when it accepts them.
    public var storeWriteFailure: StoreWriteFailure? { tracker.withLock { $0.storeFailure } }

    /// How many refreshes are in flight now.
    public var inFlightCount: Int { tracker.withLock { $0.inFlight.count } }
    /// The most refreshes ever in flight at once.
    public var peakInFlight: Int { tracker.withLock { $0.peakInFlight } }
    /// How many scheduled refresh attempts finished (either way).
    public var completedCount: Int { tracker.withLock { $0.completed } }

    /// Whether the loop is parked: waiting for a wake with none pending and no refresh in flight to send one.
    ///
    /// In that state only the clock or ``wake()`` can move it, so a test can tell "idle" from "between two spins".
    var isParkedIdle: Bool {
        wakeSignal.hasWaiter && inFlightCount == 0
    }

    public func run() async throws {
        logger.info("Token refresher started", metadata: ["tokens.max_in_flight": "\(configuration.maxInFlight)"])
        // Graceful shutdown stops dispatching but lets refreshes in flight finish and commit:
        // cancelling one between Microsoft's answer and the commit would waste a rotation.
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled, !tracker.withLock({ $0.shuttingDown }) {
                    let pause: Duration?
                    do {
                        pause = try await dispatchDue(into: &group)
                    } catch {
                        logger.error("Token refresher cannot read the store", metadata: ["error": "\(error)"])
                        pause = configuration.storeRetryDelay
                    }
                    await sleepOrWake(pause)
                }
            }
        } onGracefulShutdown: {
            self.tracker.withLock { $0.shutDown() }
            self.wakeSignal.signal()
        }
        logger.info("Token refresher stopped")
    }

    /// Starts due refreshes up to the bound; returns how long to sleep before looking again,
    /// or nil to wait for a wake only (every refresh in flight signals one when it finishes).
    private func dispatchDue(into group: inout DiscardingTaskGroup) async throws -> Duration? {
        let start = now()
        let maxInFlight = configuration.maxInFlight
        switch tracker.withLock({ $0.beginRound(at: start, maxInFlight: maxInFlight) }) {
        case .pauseForStore(let pause):
            return pause
        case .waitForWake:
            // Full: a finishing refresh wakes the loop. No timer: a cancelled sleep's timer still
            // fires at its deadline, and one per finished refresh made a busy minute echo into an idle one.
            return nil
        case .readDue(let limit, let busy, let capacity, let deferred):
            if let leasing {
                return try await dispatchClaimed(leasing, busy: busy, capacity: capacity, deferred: deferred, into: &group)
            }
            let due = try await storage.grantsDue(before: start, limit: limit)
            let ready = TokenRefreshDispatch.ready(due.map(\.id), busy: busy, capacity: capacity)
            // One probe per round: a refresh token redeemed now must have a store that takes its successor.
            if !ready.isEmpty, let pause = await storeRefusesWrites() { return pause }
            for grantID in ready {
                tracker.withLock { $0.started(grantID) }
                group.addTask {
                    await self.refreshIfDue(grantID: grantID, onDemand: false)
                    self.tracker.withLock { $0.finished(grantID) }
                    self.wakeSignal.signal()
                }
            }
            if ready.count == capacity { return .zero }
            return try await pauseUntilNextDue(excluding: busy.union(tracker.withLock { $0.inFlight }), deferred: deferred)
        }
    }

    /// The cluster's round: claims the due grants no node holds (the store decides what is due, by its clock, in
    /// the claim's own statement) and starts a refresh under each lease.
    private func dispatchClaimed(
        _ leasing: any WorkLeasing, busy: Set<Int64>, capacity: Int, deferred: [Int64: Date], into group: inout DiscardingTaskGroup
    ) async throws -> Duration? {
        let claimed = try await leasing.claimDueGrants(limit: capacity)
        // A grant whose last attempt could not be stored stays away from Microsoft until its date, here as alone.
        let skipped = claimed.filter { Int64($0.key).map(busy.contains) ?? true }
        let ready = claimed.filter { !skipped.contains($0) }
        await leasing.release(skipped)
        if !ready.isEmpty, let pause = await storeRefusesWrites() {
            await leasing.release(ready)
            return pause
        }
        for lease in ready {
            guard let grantID = Int64(lease.key) else { continue }
            tracker.withLock { $0.started(grantID) }
            group.addTask {
                await self.refreshIfDue(grantID: grantID, onDemand: false, lease: lease)
                self.tracker.withLock { $0.finished(grantID) }
                self.wakeSignal.signal()
            }
        }
        if ready.count == capacity { return .zero }
        let pause = try await pauseUntilNextDue(excluding: busy.union(tracker.withLock { $0.inFlight }), deferred: deferred)
        // Due now but not claimed: another node holds it (and moves its due date when it stores the refresh), or
        // held it and died (its lease ends within the lease duration). Look again shortly, not at once.
        return pause == .zero ? Self.heldElsewhereRetry : pause
    }

    /// How soon a round looks again at a due grant another node holds.
    static let heldElsewhereRetry: Duration = .seconds(1)

    /// Probes the store with a committed write; returns how long to pause refreshes when it refuses, `nil` when it accepts.
    ///
    /// Backs off exponentially (bounded) while it keeps refusing; says so once when it starts and once when it ends.
    func storeRefusesWrites() async -> Duration? {
        let at = now()
        do {
            try await storage.probeWrite(at: at)
            if let ended = tracker.withLock({ $0.storeAccepted() }) {
                logger.notice(
                    "The database accepts writes again; token refreshes resume",
                    metadata: ["store.failing_since": "\(ended.failingSince)", "store.failed_probes": "\(ended.failures)"]
                )
            }
            return nil
        } catch {
            let configuration = self.configuration
            let failure = tracker.withLock { tracker in
                tracker.storeRefused(at: at, error: "\(error)", delay: { configuration.storeProbeDelay(afterFailures: $0) })
            }
            let metadata: Logger.Metadata = [
                "store.error": "\(error)", "store.failed_probes": "\(failure.failures)", "store.next_check_at": "\(failure.nextCheckAt)",
            ]
            if failure.failures == 1 {
                logger.critical("The database refuses writes; token refreshes are paused so that no refresh token is lost", metadata: metadata)
            } else {
                logger.warning("The database still refuses writes; token refreshes stay paused", metadata: metadata)
            }
            return .seconds(failure.nextCheckAt.timeIntervalSince(at))
        }
    }

    /// The time until the earliest due refresh not already in flight, capped at `maxSleep`.
    private func pauseUntilNextDue(excluding busy: Set<Int64>, deferred: [Int64: Date]) async throws -> Duration {
        let upcoming = try await storage.grantsDue(before: .distantFuture, limit: busy.count + 1)
        var next: Date? = deferred.values.min()
        if let grant = upcoming.first(where: { !busy.contains($0.id) }),
           let status = try await storage.tokenStatus(grantID: grant.id) {
            next = min(next ?? status.nextRefreshAt, status.nextRefreshAt)
        }
        let maxSleep = configuration.maxSleep
        guard let next else { return maxSleep }
        let seconds = next.timeIntervalSince(now())
        if seconds <= 0 { return .zero }
        return min(.seconds(seconds), maxSleep)
    }

    private func sleepOrWake(_ pause: Duration?) async {
        guard let pause else {
            await wakeSignal.wait()
            return
        }
        guard pause > .zero else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await self.clock.sleep(for: pause) }
            group.addTask { await self.wakeSignal.wait() }
            await group.next()
            group.cancelAll()
        }
    }
}
