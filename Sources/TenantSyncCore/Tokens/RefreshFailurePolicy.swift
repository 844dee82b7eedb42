/// What to do after a refresh failed: retry later, or give the grant up.
public struct RefreshFailurePolicy: Sendable, Equatable {
    public enum Decision: Sendable, Equatable {
        /// Try again after the delay; the grant stays valid.
        case retry(after: Duration)
        /// The grant is dead; mark it invalid and tell an administrator why.
        case invalidate(TokenErrorClass.PermanentReason)
    }

    public var backoff: RetryBackoff
    /// How many consecutive failures with an unrecognized error are retried before the grant is given up.
    public var unrecognizedErrorLimit: Int

    public init(backoff: RetryBackoff = RetryBackoff(), unrecognizedErrorLimit: Int = 5) {
        self.backoff = backoff
        self.unrecognizedErrorLimit = unrecognizedErrorLimit
    }

    /// Decides after a failure.
    ///
    /// - Parameters:
    ///   - failures: consecutive failures including this one (1 for the first).
    ///   - random: a number in `0..<1` for the backoff jitter.
    public func decide(_ failure: TokenFailure, failures: Int, random: Double) -> Decision {
        switch TokenErrorClassifier.classify(failure) {
        case .permanent(let reason):
            return .invalidate(reason)
        case .unrecognized where failures >= unrecognizedErrorLimit:
            return .invalidate(.unrecognizedAfterRetries)
        case .transient, .unrecognized:
            return .retry(after: backoff.delay(failures: failures, retryAfter: failure.retryAfter, random: random))
        }
    }
}
