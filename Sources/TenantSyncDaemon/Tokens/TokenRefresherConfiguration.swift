import TenantSyncCore

/// How the token refresher schedules and bounds its work.
public struct TokenRefresherConfiguration: Sendable {
    /// When refreshes are due (`[tokens] refresh_margin`, spread, lifetime floor).
    public var schedule: RefreshSchedule
    /// Backoff and the unrecognized-error limit.
    public var failurePolicy: RefreshFailurePolicy
    /// The most refreshes in flight at once.
    public var maxInFlight: Int
    /// The longest the loop sleeps without looking at the clock again, so that a wall-clock jump is noticed.
    public var maxSleep: Duration
    /// How long the loop waits after the store failed before it tries again.
    public var storeRetryDelay: Duration
    /// The alert channels new alerts are queued for (e.g. `journal`, `smtp`, `hook:NAME`).
    public var alertChannels: [String]
    /// The first wait after the store refused a write probe; it doubles with each further failure.
    public var storeProbeInitialDelay: Duration
    /// The longest wait between write probes while the store refuses writes.
    public var storeProbeMaximumDelay: Duration

    public init(
        schedule: RefreshSchedule = RefreshSchedule(), failurePolicy: RefreshFailurePolicy = RefreshFailurePolicy(),
        maxInFlight: Int = 32, maxSleep: Duration = .seconds(60), storeRetryDelay: Duration = .seconds(5),
        alertChannels: [String] = ["journal"], storeProbeInitialDelay: Duration = .seconds(1),
        storeProbeMaximumDelay: Duration = .seconds(30)
    ) {
        self.schedule = schedule
        self.failurePolicy = failurePolicy
        self.maxInFlight = max(1, maxInFlight)
        self.maxSleep = maxSleep
        self.storeRetryDelay = storeRetryDelay
        self.alertChannels = alertChannels
        self.storeProbeInitialDelay = storeProbeInitialDelay
        self.storeProbeMaximumDelay = max(storeProbeMaximumDelay, storeProbeInitialDelay)
    }

    /// The wait after `failures` failed write probes in a row: doubling from the initial delay, bounded.
    func storeProbeDelay(afterFailures failures: Int) -> Duration {
        let doublings = min(max(failures - 1, 0), 30)
        let delay = storeProbeInitialDelay * (1 << doublings)
        return min(delay, storeProbeMaximumDelay)
    }
}
