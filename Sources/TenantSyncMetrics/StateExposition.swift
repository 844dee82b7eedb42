/// The state gauges of one read, written in the Prometheus text format family by family.
///
/// Why not a swift-prometheus registry, as for the event metrics: `PrometheusCollectorRegistry` 2.4.1
/// copies a family's whole label dictionary each time it adds a series (`MetricFamily.adding`), so
/// filling one family with n series costs O(n²). At 10,000 tenants (40,000 grants, about 240,000
/// series) a debug daemon spent minutes of CPU on one render. The gauges here are
/// rebuilt from each read and never updated in place, which is all this writer does: appends, each
/// family's samples contiguous after its HELP and TYPE lines.
struct StateExposition {
    private var order: [String] = []
    private var families: [String: [UInt8]] = [:]

    /// Adds one gauge sample; the first sample of a family writes its HELP and TYPE lines.
    mutating func gauge(_ name: String, _ labels: [(String, String)], _ help: String, _ value: Double) {
        if families[name] == nil {
            order.append(name)
            families[name] = Array("# HELP \(name) \(Self.escapedHelp(help))\n# TYPE \(name) gauge\n".utf8)
        }
        var line = name
        if !labels.isEmpty {
            line += "{" + labels.map { "\($0.0)=\"\(Self.escapedLabel($0.1))\"" }.joined(separator: ",") + "}"
        }
        line += " " + Self.format(value) + "\n"
        families[name]!.append(contentsOf: line.utf8)
    }

    /// The families in the order they were first written.
    var text: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(families.values.reduce(0) { $0 + $1.count })
        for name in order { bytes.append(contentsOf: families[name]!) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Integral values without a fraction (timestamps in seconds, counts, 0/1); others as Swift writes them.
    static func format(_ value: Double) -> String {
        if value.isFinite, value.rounded() == value, abs(value) < 9_007_199_254_740_992 { return String(Int64(value)) }
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        return value.description
    }

    /// Label values: backslash, double quote and line feed escaped, as the text format requires.
    static func escapedLabel(_ value: String) -> String {
        guard value.contains(where: { $0 == "\\" || $0 == "\"" || $0 == "\n" }) else { return value }
        return value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    /// HELP text: backslash and line feed escaped.
    static func escapedHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}
