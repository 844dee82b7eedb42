import Foundation

/// The files shipped under `contrib/`, and the metric names their queries use.
enum ShippedFiles {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let rules = root.appendingPathComponent("contrib/prometheus/tenantsync.rules.yml").path
    static let ruleTests = root.appendingPathComponent("contrib/prometheus/tenantsync.rules.test.yml").path
    static let dashboard = root.appendingPathComponent("contrib/grafana/tenantsync-dashboard.json").path

    /// Every `tenantsync_…` name in a file (series names, histogram `_bucket`/`_sum`/`_count` included).
    static func metricNames(in path: String) throws -> Set<String> {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: "tenantsync_[a-z_]+")
        let range = NSRange(text.startIndex..., in: text)
        return Set(pattern.matches(in: text, range: range).compactMap { Range($0.range, in: text).map { String(text[$0]) } })
    }

    /// The sample names of an exposition (`name{labels} value` or `name value` lines).
    static func sampleNames(in exposition: String) -> Set<String> {
        Set(exposition.split(separator: "\n").compactMap { line -> String? in
            guard !line.hasPrefix("#"), let end = line.firstIndex(where: { $0 == "{" || $0 == " " }) else { return nil }
            return String(line[..<end])
        })
    }

    /// `promtool`, installed from Debian's `prometheus` package by scripts/ensure-deps.sh.
    static let promtool = "/usr/bin/promtool"
}
