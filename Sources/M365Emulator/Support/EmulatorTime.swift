import Foundation

/// Formats emulator instants (seconds since 1970) the way Microsoft writes them.
enum EmulatorTime {
    /// `2024-05-01 09:34:07Z`, as in `error_description` Timestamp lines and the `timestamp` field.
    static func aadTimestamp(_ seconds: Double) -> String {
        let c = components(seconds)
        return "\(c.y)-\(pad(c.m))-\(pad(c.d)) \(pad(c.h)):\(pad(c.min)):\(pad(c.s))Z"
    }

    /// `2024-05-01T09:34:07Z` (ISO 8601, used by Graph).
    static func iso(_ seconds: Double) -> String {
        let c = components(seconds)
        return "\(c.y)-\(pad(c.m))-\(pad(c.d))T\(pad(c.h)):\(pad(c.min)):\(pad(c.s))Z"
    }

    /// `2024-05-01T09:34:07` (Graph's innerError date has no zone suffix).
    static func graphInnerDate(_ seconds: Double) -> String {
        let c = components(seconds)
        return "\(c.y)-\(pad(c.m))-\(pad(c.d))T\(pad(c.h)):\(pad(c.min)):\(pad(c.s))"
    }

    private static func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : String(v) }

    /// Civil date from days since the epoch (Howard Hinnant's algorithm): no formatter, no locale.
    private static func components(_ seconds: Double) -> (y: Int, m: Int, d: Int, h: Int, min: Int, s: Int) {
        let total = Int(seconds.rounded(.down))
        var days = total / 86_400
        var rem = total % 86_400
        if rem < 0 { rem += 86_400; days -= 1 }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return (y, m, d, rem / 3600, (rem % 3600) / 60, rem % 60)
    }
}
