import Foundation
import Synchronization

/// The last time a loop proved it is alive; the watchdog's health check reads it.
public final class Heartbeat: Sendable {
    private let last = Mutex<ContinuousClock.Instant>(.now)

    public init() {}

    public func beat() { last.withLock { $0 = .now } }

    /// Whether the loop beat within `interval`.
    public func isAlive(within interval: Duration) -> Bool {
        last.withLock { ContinuousClock.now - $0 <= interval }
    }
}
