/// The state gauges of one read, written in the Prometheus text format family by family.
///
/// Why not a swift-prometheus registry, as for the event metrics: `PrometheusCollectorRegistry` 2.4.1
/// copies a family's whole label dictionary each time it adds a series (`MetricFamily.adding`), so
/// filling one family with n series costs O(n²). At 10,000 tenants (40,000 grants, about 240,000
/// series) a debug daemon spent minutes of CPU on one render. The gauges here are
/// rebuilt from each read and never updated in place, which is all this writer does: appends, each
/// family's samples contiguous after its HELP and TYPE lines.
///
/// Each sample is written as bytes straight into its family's buffer (no `String` per line, no joined
/// label list, integers formatted digit by digit): a scrape of a fleet writes about 240,000 lines.
struct StateExposition {
    private var index: [String: Int] = [:]
    private var families: [[UInt8]] = []

    /// Adds one gauge sample; the first sample of a family writes its HELP and TYPE lines.
    mutating func gauge(_ name: String, _ labels: [(String, String)], _ help: String, _ value: Double) {
        let family: Int
        if let known = index[name] {
            family = known
        } else {
            family = families.count
            index[name] = family
            families.append(Array("# HELP \(name) \(Self.escapedHelp(help))\n# TYPE \(name) gauge\n".utf8))
        }
        Self.appendSample(to: &families[family], name, labels, value)
    }

    /// The families in the order they were first written.
    var text: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(families.reduce(0) { $0 + $1.count })
        for family in families { bytes.append(contentsOf: family) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func appendSample(to buffer: inout [UInt8], _ name: String, _ labels: [(String, String)], _ value: Double) {
        buffer.append(contentsOf: name.utf8)
        if !labels.isEmpty {
            buffer.append(UInt8(ascii: "{"))
            for (position, (label, labelValue)) in labels.enumerated() {
                if position > 0 { buffer.append(UInt8(ascii: ",")) }
                buffer.append(contentsOf: label.utf8)
                buffer.append(UInt8(ascii: "="))
                buffer.append(UInt8(ascii: "\""))
                appendEscapedLabel(to: &buffer, labelValue)
                buffer.append(UInt8(ascii: "\""))
            }
            buffer.append(UInt8(ascii: "}"))
        }
        buffer.append(UInt8(ascii: " "))
        appendValue(to: &buffer, value)
        buffer.append(UInt8(ascii: "\n"))
    }

    /// Integral values without a fraction (timestamps in seconds, counts, 0/1); others as Swift writes them.
    static func format(_ value: Double) -> String {
        var bytes: [UInt8] = []
        appendValue(to: &bytes, value)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func appendValue(to buffer: inout [UInt8], _ value: Double) {
        if value.isFinite, value.rounded() == value, abs(value) < 9_007_199_254_740_992 {
            appendInteger(to: &buffer, Int64(value))
        } else if value.isNaN {
            buffer.append(contentsOf: "NaN".utf8)
        } else if value.isInfinite {
            buffer.append(contentsOf: (value > 0 ? "+Inf" : "-Inf").utf8)
        } else {
            buffer.append(contentsOf: value.description.utf8)
        }
    }

    static func appendInteger(to buffer: inout [UInt8], _ value: Int64) {
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = buffer.count
        repeat {
            buffer.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        buffer[start...].reverse()
    }

    /// Label values: backslash, double quote and line feed escaped, as the text format requires.
    static func appendEscapedLabel(to buffer: inout [UInt8], _ value: String) {
        let bytes = value.utf8
        guard bytes.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else {
            buffer.append(contentsOf: bytes)
            return
        }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\""): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\n"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            default: buffer.append(byte)
            }
        }
    }

    /// HELP text: backslash and line feed escaped.
    static func escapedHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}
