/// Exponential backoff with jitter, bounded: `initial × multiplier^(attempt-1)`, at most `maximum`.
public struct BackoffPolicy: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double
    /// Fraction of the delay taken off at random (0 = none, 0.2 = up to 20 % shorter), so
    /// many failing deliveries do not retry in lock-step.
    public var jitter: Double

    public init(initial: Duration = .seconds(30), maximum: Duration = .seconds(3600), multiplier: Double = 2, jitter: Double = 0.2) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = min(max(jitter, 0), 1)
    }

    /// The delay before the next try after `attempt` failed attempts (1 = the first failure).
    public func delay(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let initialSeconds = Self.seconds(initial)
        let maximumSeconds = Self.seconds(maximum)
        let exponent = Double(max(attempt, 1) - 1)
        let raw = min(initialSeconds * pow(multiplier, exponent), maximumSeconds)
        let factor = jitter > 0 ? 1 - Double.random(in: 0...jitter, using: &generator) : 1
        return .nanoseconds(Int64((raw * factor * 1e9).rounded()))
    }

    /// The delay with the system random generator.
    public func delay(afterAttempt attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(afterAttempt: attempt, using: &generator)
    }

    static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}

private func pow(_ base: Double, _ exponent: Double) -> Double {
    // Integer exponents only; avoids importing Foundation for one call.
    var result = 1.0
    var remaining = Int(exponent)
    while remaining > 0 && result < 1e12 {
        result *= base
        remaining -= 1
    }
    return result
}
