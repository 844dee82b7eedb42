import struct Foundation.Date
import struct Foundation.TimeInterval

/// When a grant's next refresh is due.
///
/// Due `margin` before the access token expires, or at Microsoft's
/// `refresh_in` hint if that is earlier, then pulled earlier by a random
/// part of `spread` so that grants obtained together do not all refresh in
/// the same second. Never before `minimumLifetimeFraction` of the token's life
/// has passed, so that a short-lived token does not refresh in a loop.
public struct RefreshSchedule: Sendable, Equatable {
    /// How long before expiry to refresh (`[tokens] refresh_margin`, default 10 minutes).
    public var margin: Duration
    /// The most the due time is pulled earlier at random.
    public var spread: Duration
    /// The fraction of the token's lifetime that must pass before the refresh is due.
    public var minimumLifetimeFraction: Double

    public static let defaultMargin: Duration = .seconds(600)

    public init(margin: Duration = Self.defaultMargin, spread: Duration = .seconds(300), minimumLifetimeFraction: Double = 0.5) {
        self.margin = margin
        self.spread = spread
        self.minimumLifetimeFraction = minimumLifetimeFraction
    }

    /// The next refresh time of a freshly obtained token set.
    ///
    /// - Parameter random: a number in `0..<1` choosing where in the spread the refresh falls.
    public func nextRefresh(obtainedAt: Date, expiresAt: Date, refreshInAt: Date?, random: Double) -> Date {
        let lifetime = max(0, expiresAt.timeIntervalSince(obtainedAt))
        var due = expiresAt.addingTimeInterval(-margin.secondsDouble)
        if let refreshInAt, refreshInAt < due { due = refreshInAt }
        // Spread at most a tenth of the lifetime so that short tokens keep most of their life.
        let spreadSeconds = min(spread.secondsDouble, lifetime / 10)
        due = due.addingTimeInterval(-spreadSeconds * min(max(random, 0), 1))
        let earliest = obtainedAt.addingTimeInterval(lifetime * minimumLifetimeFraction)
        // A margin longer than half the lifetime would refresh right away forever; the floor
        // keeps at least half of the token's life in use.
        return max(due, earliest)
    }

    /// The next refresh time of a token set.
    public func nextRefresh(for tokens: TokenSet, random: Double) -> Date {
        nextRefresh(obtainedAt: tokens.obtainedAt, expiresAt: tokens.expiresAt, refreshInAt: tokens.refreshInAt, random: random)
    }
}
