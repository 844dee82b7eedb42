import Foundation

/// Dates as the PostgreSQL store keeps them: `timestamptz` at millisecond precision, like the SQLite store's text
/// timestamps (`Sources/TenantSyncStore/Timestamp.swift`), so that a date reads back equal from either store.
enum StoredDate {
    /// The date cut to the millisecond before it is bound (PostgreSQL would keep microseconds).
    static func bound(_ date: Date) -> Date {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        return make(milliseconds)
    }

    static func bound(_ date: Date?) -> Date? { date.map(bound) }

    /// A date read from a column, rebuilt from its milliseconds with the SQLite store's arithmetic.
    static func read(_ date: Date) -> Date {
        make(Int64((date.timeIntervalSince1970 * 1000).rounded()))
    }

    static func read(_ date: Date?) -> Date? { date.map(read) }

    private static func make(_ milliseconds: Int64) -> Date {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        return Date(timeIntervalSince1970: Double(seconds) + Double(milliseconds - seconds * 1000) / 1000)
    }
}
