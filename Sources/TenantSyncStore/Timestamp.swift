import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Dates as stored in the database: ISO 8601 UTC text with milliseconds
/// (`2026-11-21T02:13:00.000Z`), which sorts as text in time order and reads
/// well in `sqlite3`.
enum Timestamp {
    static func text(_ date: Date) -> String {
        let totalMilliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(totalMilliseconds >= 0 ? totalMilliseconds / 1000 : (totalMilliseconds - 999) / 1000)
        let milliseconds = Int(totalMilliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), milliseconds
        )
    }

    static func text(_ date: Date?) -> String? { date.map { text($0) } }

    /// Parses the stored form; `nil` for anything else.
    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        let utf8 = Array(text.utf8)
        guard utf8.count == 24, utf8[4] == UInt8(ascii: "-"), utf8[10] == UInt8(ascii: "T"), utf8[23] == UInt8(ascii: "Z") else {
            return nil
        }
        func number(_ range: Range<Int>) -> Int32? {
            var value: Int32 = 0
            for index in range {
                let byte = utf8[index]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int32(byte - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19),
              let millisecond = number(20..<23)
        else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        let seconds = timegm(&parts)
        return Date(timeIntervalSince1970: Double(seconds) + Double(millisecond) / 1000)
    }

    /// SQL giving the stored time `expression` as Unix milliseconds (an integer; NULL stays NULL), for reads of many
    /// rows: SQLite parses the stored form in C, where ``date(_:)`` would make a `String` and call `timegm` per value.
    /// SQLite keeps a time as whole milliseconds (its `iJD`), so the round trip is exact.
    static func unixMillisecondsSQL(_ expression: String) -> String {
        "CAST(round((julianday(\(expression)) - 2440587.5) * 86400000.0) AS INTEGER)"
    }

    /// The time a ``unixMillisecondsSQL(_:)`` column gave.
    static func date(unixMilliseconds: Int64?) -> Date? {
        unixMilliseconds.map { Date(timeIntervalSince1970: Double($0) / 1_000) }
    }
}
