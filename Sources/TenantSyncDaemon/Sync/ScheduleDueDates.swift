import Foundation
import Synchronization
import TenantSyncCore

/// Every scheduled tenant's daily due date, kept between changes of what they are computed from.
///
/// A due date is a pure function of the tenant's id, its newest run's start, the schedule and the UTC day
/// (the jitter changes daily), so the dates computed once stay right until the store reports a change
/// (``ScheduleChangeSource``), the configuration's window changes, or the day turns. The daily loop's pass
/// each minute, the status line every 15 s and `tenantsyncctl status` then cost no query and no hashing
/// while nothing changes; at 10,000 tenants each of them read and hashed every tenant before.
final class ScheduleDueDates: Sendable {
    /// The due dates of one computation, earliest first (ties in the store's order, by domain).
    struct Dates: Sendable {
        var entries: [(tenant: ScheduledTenant, at: Date)]
    }

    private struct State {
        /// Bumped by every change the store reports.
        var version: UInt64 = 0
        var kept: (version: UInt64, day: Int64, schedule: DailySyncSchedule, dates: Dates)?
    }

    private let state = Mutex(State())

    /// Forgets the kept dates: the store changed.
    func invalidate() {
        state.withLock {
            $0.version &+= 1
            $0.kept = nil
        }
    }

    /// The kept dates if they were computed for this day and schedule since the last change; otherwise
    /// computes them with `compute` (in the store's order) and keeps them, unless a change landed meanwhile.
    func dates(
        day: Int64, schedule: DailySyncSchedule, compute: () async throws -> [(tenant: ScheduledTenant, at: Date)]
    ) async throws -> Dates {
        let (kept, version) = state.withLock { state -> (Dates?, UInt64) in
            guard let kept = state.kept, kept.version == state.version, kept.day == day, kept.schedule == schedule else {
                return (nil, state.version)
            }
            return (kept.dates, state.version)
        }
        if let kept { return kept }
        // Read after the version: a change committed from here on bumps it, and this computation is not kept.
        let computed = try await compute()
        let order = computed.indices.sorted { (computed[$0].at, $0) < (computed[$1].at, $1) }
        let dates = Dates(entries: order.map { computed[$0] })
        state.withLock { state in
            if state.version == version { state.kept = (version, day, schedule, dates) }
        }
        return dates
    }
}
