import Foundation

/// How a call to a Microsoft cloud API (Graph, the Exchange admin API) is retried after a transient failure.
///
/// One policy for every HTTP client of this module: a bounded number of attempts; between them the
/// server's `Retry-After` when it sent one, else exponential backoff with jitter; either way at most
/// ``maximumRetryAfter``, so a hostile or broken answer cannot park a sync for hours. The wait is slept
/// on the clock the caller injects (a manual clock in tests).
public struct MicrosoftRetryPolicy: Sendable, Equatable {
    /// How often a call is tried in all (the first attempt included).
    public var maximumAttempts: Int
    /// The longest wait between two attempts, whatever `Retry-After` says.
    public var maximumRetryAfter: Duration

    public init(maximumAttempts: Int, maximumRetryAfter: Duration = .seconds(120)) {
        self.maximumAttempts = max(1, maximumAttempts)
        self.maximumRetryAfter = maximumRetryAfter
    }

    /// What the caller's classification says about one failed attempt.
    public enum Failure: Sendable, Equatable {
        /// Not worth retrying: the error is thrown as it is.
        case permanent
        /// Worth retrying after the server's `Retry-After` (`nil`: none sent; backoff applies).
        case transient(retryAfter: Duration?)
        /// Worth retrying at once: something else already waited (a Graph pacer that paused the tenant on a 429).
        case transientWaitedElsewhere
    }

    /// Whether an HTTP answer is transient: 429, any 5xx, or no answer at all (`nil`).
    public static func isTransient(status: Int?) -> Bool {
        guard let status else { return true }
        return status == 429 || (500...599).contains(status)
    }

    /// The wait after failed attempt number `attempt` (1 = the first): `Retry-After` if given, else backoff; capped.
    ///
    /// - Parameter random: a number in `0...1` for the backoff's jitter.
    public func delay(afterAttempt attempt: Int, retryAfter: Duration?, random: Double = Double.random(in: 0...1)) -> Duration {
        min(retryAfter ?? Self.backoff(attempt: attempt, random: random), maximumRetryAfter)
    }

    /// Exponential backoff from half a second, doubling up to the seventh attempt, plus up to half as much again at random.
    static func backoff(attempt: Int, random: Double) -> Duration {
        let base = 0.5 * pow(2.0, Double(min(max(attempt, 1) - 1, 6)))
        let jitter = base / 2 * min(max(random, 0), 1)
        return .milliseconds(Int64((base + jitter) * 1000))
    }

    /// Runs `operation` until it succeeds, fails permanently or has used every attempt.
    ///
    /// - Parameters:
    ///   - clock: what the waits between attempts are slept on.
    ///   - classify: what a thrown error means for the next attempt.
    ///   - willRetry: told before each wait, for the caller's log line: the error, the failed attempt, the wait.
    public func run<T>(
        on clock: any Clock<Duration>,
        classify: (any Error) -> Failure,
        willRetry: (_ error: any Error, _ attempt: Int, _ delay: Duration) -> Void = { _, _, _ in },
        _ operation: () async throws -> T
    ) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await operation()
            } catch {
                guard attempt < maximumAttempts else { throw error }
                let delay: Duration
                switch classify(error) {
                case .permanent: throw error
                case .transient(let retryAfter): delay = self.delay(afterAttempt: attempt, retryAfter: retryAfter)
                case .transientWaitedElsewhere: delay = .zero
                }
                willRetry(error, attempt, delay)
                if delay > .zero { try await clock.sleep(for: delay) }
            }
        }
    }
}
