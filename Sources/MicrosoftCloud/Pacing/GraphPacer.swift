import Synchronization

/// What a paced request says about itself.
public struct GraphPacing: Sendable, Equatable {
    /// `x-ms-throttle-priority`: Microsoft throttles Low first when a limit is reached.
    public enum Priority: String, Sendable {
        case low = "Low", normal = "Normal"
    }

    public var tenantID: String
    /// The tenant's user count, which sets its size class; `nil` (not synced yet) counts as the smallest.
    public var users: Int?
    public var priority: Priority

    public init(tenantID: String, users: Int?, priority: Priority) {
        self.tenantID = tenantID
        self.users = users
        self.priority = priority
    }
}

/// Paces Graph requests; ``GraphClient`` asks it before each request and tells it every answer.
public protocol GraphRequestPacer: Sendable {
    /// Returns when a request of `cost` RU may go (throws only on cancellation).
    func admit(_ pacing: GraphPacing, cost: Int) async throws
    func answered(_ pacing: GraphPacing, reserved: Int, charged: Int?, limitPercentage: Double?)
    func throttled(_ pacing: GraphPacing, retryAfter: Duration)
    /// A read has seen at least `users` users of the tenant: pace it at no smaller a size class from now on.
    func learnedUsers(_ pacing: GraphPacing, atLeast users: Int)
}

/// The IO around ``GraphPacingState``: one per daemon, shared by every tenant's runs, sleeping on `clock`.
public final class GraphPacer<C: Clock>: GraphRequestPacer where C.Duration == Duration {
    private let clock: C
    private let state: Mutex<GraphPacingState<C>>

    public init(share: Double, applicationResourceUnitsPer20Seconds: Int = 150_000, clock: C) {
        self.clock = clock
        state = Mutex(GraphPacingState(share: share, applicationResourceUnitsPer20Seconds: applicationResourceUnitsPer20Seconds))
    }

    public func admit(_ pacing: GraphPacing, cost: Int) async throws {
        while true {
            let now = clock.now
            let decision = state.withLock { $0.admit(tenant: pacing.tenantID, users: pacing.users, cost: cost, now: now) }
            guard case .wait(let until) = decision else { return }
            try await clock.sleep(until: until, tolerance: nil)
        }
    }

    public func answered(_ pacing: GraphPacing, reserved: Int, charged: Int?, limitPercentage: Double?) {
        let now = clock.now
        state.withLock { $0.answered(tenant: pacing.tenantID, reserved: reserved, charged: charged, limitPercentage: limitPercentage, now: now) }
    }

    public func throttled(_ pacing: GraphPacing, retryAfter: Duration) {
        let now = clock.now
        state.withLock { $0.throttled(tenant: pacing.tenantID, retryAfter: retryAfter, now: now) }
    }

    public func learnedUsers(_ pacing: GraphPacing, atLeast users: Int) {
        let now = clock.now
        state.withLock { $0.learnedUsers(tenant: pacing.tenantID, atLeast: users, now: now) }
    }
}

extension GraphPacer where C == ContinuousClock {
    public convenience init(share: Double, applicationResourceUnitsPer20Seconds: Int = 150_000) {
        self.init(share: share, applicationResourceUnitsPer20Seconds: applicationResourceUnitsPer20Seconds, clock: ContinuousClock())
    }
}
