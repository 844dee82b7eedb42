import Foundation

/// Parses durations written the way people write them on a command line: `50ms`, `1.5s`, `250us`, `0`.
public enum EmulatorDuration {
    public static func parse(_ text: String) -> Duration? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("ns", 1e-9), ("s", 1), ("m", 60)]
        for (suffix, scale) in units where t.hasSuffix(suffix) {
            guard let value = Double(t.dropLast(suffix.count)), value >= 0, value.isFinite else { return nil }
            return .nanoseconds(Int64((value * scale * 1e9).rounded()))
        }
        if t == "0" { return .zero }
        return nil
    }
}
