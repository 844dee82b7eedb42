/// Exponential backoff with jitter for transient token failures.
///
/// The n-th consecutive failure waits `base * 2^(n-1)`, capped at `cap`, of
/// which the upper half is random ("equal jitter": never zero, never herd).
/// A `Retry-After` from Microsoft is honoured but capped at `retryAfterCap`, so
/// a bogus header cannot park a grant for days.
public struct RetryBackoff: Sendable, Equatable {
    public var base: Duration
    public var cap: Duration
    public var retryAfterCap: Duration

    public init(base: Duration = .seconds(5), cap: Duration = .seconds(600), retryAfterCap: Duration = .seconds(3600)) {
        self.base = base
        self.cap = cap
        self.retryAfterCap = retryAfterCap
    }

    /// The wait before the next attempt.
    ///
    /// - Parameters:
    ///   - failures: consecutive failures so far, including the one just seen (1 for the first).
    ///   - retryAfter: Microsoft's `Retry-After`, if sent.
    ///   - random: a number in `0..<1` (injected so that tests are exact).
    public func delay(failures: Int, retryAfter: Duration?, random: Double) -> Duration {
        let exponent = max(0, min(failures - 1, 40))
        var full = cap
        // Double arithmetic: 2^40 * base overflows Duration's multiplication long before the cap matters.
        let grown = base.secondsDouble * Double(1 << exponent)
        if grown < cap.secondsDouble { full = .seconds(grown) }
        let clamped = min(max(random, 0), 0.999_999)
        let jittered = full / 2 + .seconds(full.secondsDouble / 2 * clamped)
        guard let retryAfter else { return jittered }
        return max(jittered, min(retryAfter, retryAfterCap))
    }
}

extension Duration {
    /// The duration in seconds as a `Double`.
    public var secondsDouble: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
