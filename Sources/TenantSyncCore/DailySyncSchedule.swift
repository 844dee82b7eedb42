import struct Foundation.Date

/// When each tenant's daily sync is due.
///
/// Every tenant has a stable position inside the daily window, derived from its
/// id, so ten thousand tenants spread evenly over the window instead of starting
/// together; a little jitter on top keeps tenants with neighbouring positions
/// apart from day to day.
public struct DailySyncSchedule: Sendable, Equatable {
    /// Start of the window, in seconds after midnight UTC.
    public var windowStart: Duration
    public var windowLength: Duration
    /// At most this much is added at random to a tenant's position.
    public var maximumJitter: Duration

    public init(windowStartMinutes: Int, windowLength: Duration, maximumJitter: Duration? = nil) {
        self.windowStart = .seconds(Int64(windowStartMinutes) * 60)
        self.windowLength = windowLength
        self.maximumJitter = maximumJitter ?? min(.seconds(300), windowLength / 100)
    }

    /// The tenant's stable offset inside the window, in `0 ..< windowLength`.
    public func offset(tenantID: String) -> Duration {
        let hash = FNV1a.hash(tenantID.lowercased().utf8)
        let length = max(windowLength.wholeSeconds, 1)
        return .seconds(Int64(hash % UInt64(length)))
    }

    /// The first due time strictly after `lastRun` (or the most recent one at or before `now` when never run).
    ///
    /// A tenant whose slot passed while the daemon was down gets a due time in
    /// the past, so the scheduler syncs it soon after start.
    public func nextDue(tenantID: String, lastRun: Date?, now: Date, jitter: Duration = .zero) -> Date {
        let slotSeconds = (windowStart + offset(tenantID: tenantID) + jitter).secondsValue
        let day = 86_400.0
        func slot(onDayOf date: Date) -> Date {
            let midnight = (date.timeIntervalSince1970 / day).rounded(.down) * day
            return Date(timeIntervalSince1970: midnight + slotSeconds)
        }
        guard let lastRun else {
            // Never synced: today's slot if it has passed, else today's upcoming slot.
            return slot(onDayOf: now)
        }
        var candidate = slot(onDayOf: lastRun)
        // A run counts for the slot it was in: the next slot is at least 12 hours later,
        // so a run shortly before its own slot (manual, provision) does not trigger another.
        while candidate.timeIntervalSince(lastRun) < day / 2 { candidate = candidate.addingTimeInterval(day) }
        return candidate
    }
}
