/// A token bucket of resource units: full at `capacity`, refilled continuously at `capacity` per `window` seconds.
///
/// Microsoft describes identity throttling as "based on a token bucket algorithm" whose quotas are given per
/// window (3,500 RU per 10 s …); the bucket refills at that average rate, so a client that spends its budget
/// evenly is never throttled and a burst may spend at most one full bucket.
/// Time is the emulator's clock (seconds), so tests move it with the admin clock instead of sleeping.
struct TokenBucket: Sendable {
    let capacity: Int
    let window: Double
    private(set) var tokens: Double
    private(set) var updatedAt: Double

    init(capacity: Int, window: Double, now: Double) {
        self.capacity = max(1, capacity)
        self.window = window
        self.tokens = Double(self.capacity)
        self.updatedAt = now
    }

    private var rate: Double { Double(capacity) / window }

    mutating func refill(now: Double) {
        guard now > updatedAt else { return }
        tokens = min(Double(capacity), tokens + (now - updatedAt) * rate)
        updatedAt = now
    }

    /// Whether `cost` units are available now (after refill). A request dearer than the whole bucket is admitted
    /// when the bucket is full and leaves it in debt; otherwise a tenant whose limit is set below one request's
    /// cost could never be served at all.
    mutating func canTake(_ cost: Int, now: Double) -> Bool {
        refill(now: now)
        return tokens >= Double(min(cost, capacity))
    }

    mutating func take(_ cost: Int) { tokens -= Double(cost) }

    /// Whole seconds until `cost` units are available again (at least 1).
    func secondsUntil(_ cost: Int) -> Int {
        let missing = Double(min(cost, capacity)) - tokens
        return max(1, Int((missing / rate).rounded(.up)))
    }

    /// The share of the limit in use (0 when full, 1 when empty).
    var usedFraction: Double { (Double(capacity) - tokens) / Double(capacity) }
}
