import Foundation
import NIOCore

/// The state gauges of one read, written in the Prometheus text format into one buffer, family by family.
///
/// Why not a swift-prometheus registry, as for the event metrics: `PrometheusCollectorRegistry` 2.4.1
/// copies a family's whole label dictionary each time it adds a series (`MetricFamily.adding`), so
/// filling one family with n series costs O(n²). At 10,000 tenants (40,000 grants, about 240,000
/// series) a debug daemon spent minutes of CPU on one render. The gauges here are rebuilt from each
/// read and never updated in place, which is all this writer does: appends.
///
/// A fleet's scrape is about 240,000 lines, so the writer allocates nothing per line: each sample's
/// name, labels and value go as bytes straight into the one buffer the endpoint then sends as it is
/// (no `String` per line, no label array per sample, no family buffers joined at the end, no copy of
/// the whole text). The text format wants each family's samples contiguous after its HELP and TYPE
/// lines: a family is started once (``family(_:_:)``) and its samples follow until the next one starts.
struct StateExposition {
    private(set) var buffer: ByteBuffer
    private var started: Set<String> = []
    private var current = ""
    /// The current family's HELP text until its first sample writes it (a family without samples writes nothing).
    private var pendingHelp: String?

    /// - Parameter capacity: the bytes to reserve (an estimate; the buffer grows past it if needed).
    init(capacity: Int = 1_024) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    /// Writes into `buffer`'s memory when nothing else holds it (else into new memory): a fleet's text is tens of
    /// megabytes, and memory allocated afresh is paid again in page faults each time.
    init(reusing buffer: consuming ByteBuffer, capacity: Int) {
        self.buffer = consume buffer
        self.buffer.clear(minimumCapacity: capacity)
    }

    /// The text written so far (tests read it; the endpoint sends ``buffer``).
    var text: String { String(buffer: buffer) }

    /// Starts a family; its samples follow. Its HELP and TYPE lines are written with its first sample, so a family
    /// without samples leaves no trace. A family started twice is a programming error.
    mutating func family(_ name: String, _ help: String) {
        precondition(started.insert(name).inserted, "metric family \(name) started twice; its samples must be contiguous")
        current = name
        pendingHelp = help
    }

    /// Writes a family's HELP and TYPE lines now; its samples follow, as ``append(_:)``ed text or ``sample`` calls.
    mutating func header(_ name: String, _ help: String) {
        family(name, help)
        writeHelpIfPending()
    }

    /// Samples of `name` without its HELP and TYPE lines: a piece of the family (one tenant's series) that is
    /// appended later after the family's ``header(_:_:)``.
    mutating func samples(of name: String) {
        current = name
        pendingHelp = nil
    }

    /// Appends text written by another exposition (a piece of the current family).
    mutating func append(_ text: UnsafeRawBufferPointer) {
        buffer.writeBytes(text)
    }

    /// The bytes written so far.
    var count: Int { buffer.readableBytes }

    /// A sample of the current family without labels.
    mutating func sample(_ value: Value) {
        write(nil, "", nil, "", nil, "", value)
    }

    /// A sample of the current family with one label.
    mutating func sample(_ label: StaticString, _ labelValue: String, _ value: Value) {
        write(label, labelValue, nil, "", nil, "", value)
    }

    /// A sample of the current family with two labels.
    mutating func sample(_ first: StaticString, _ firstValue: String, _ second: StaticString, _ secondValue: String, _ value: Value) {
        write(first, firstValue, second, secondValue, nil, "", value)
    }

    /// A sample of the current family with three labels.
    mutating func sample(
        _ first: StaticString, _ firstValue: String, _ second: StaticString, _ secondValue: String, _ third: StaticString,
        _ thirdValue: String, _ value: Value
    ) {
        write(first, firstValue, second, secondValue, third, thirdValue, value)
    }

    /// A sample's value.
    enum Value {
        /// A count or a 0/1 flag.
        case integer(Int)
        /// A point in time as Unix seconds, to the millisecond (what the store keeps).
        case timestamp(Date)
        /// Any other number.
        case number(Double)
    }

    /// One sample line, written in one reservation of the buffer: a fleet's scrape is about 240,000 lines, and a
    /// buffer call per token of each (name, brace, label, quote, value...) cost more than everything else together.
    private mutating func write(
        _ first: StaticString?, _ firstValue: String, _ second: StaticString?, _ secondValue: String, _ third: StaticString?,
        _ thirdValue: String, _ value: Value
    ) {
        writeHelpIfPending()
        // The most the line can take: each label value escaped doubles at most, a value is under 32 bytes.
        var bound = current.utf8.count + 40
        if let first { bound += first.utf8CodeUnitCount + 4 + 2 * firstValue.utf8.count }
        if let second { bound += second.utf8CodeUnitCount + 4 + 2 * secondValue.utf8.count }
        if let third { bound += third.utf8CodeUnitCount + 4 + 2 * thirdValue.utf8.count }
        let name = current
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bound) { destination in
            var line = LineWriter(base: destination.baseAddress!)
            line.put(name)
            if let first {
                line.put(UInt8(ascii: "{"))
                line.putLabel(first, firstValue)
                if let second {
                    line.put(UInt8(ascii: ","))
                    line.putLabel(second, secondValue)
                }
                if let third {
                    line.put(UInt8(ascii: ","))
                    line.putLabel(third, thirdValue)
                }
                line.put(UInt8(ascii: "}"))
            }
            line.put(UInt8(ascii: " "))
            switch value {
            case .integer(let integer): line.putInteger(Int64(integer))
            case .timestamp(let date): line.putSeconds(date.timeIntervalSince1970)
            case .number(let number): line.putNumber(number)
            }
            line.put(UInt8(ascii: "\n"))
            return line.count
        }
    }

    /// The family's HELP and TYPE lines before its first sample.
    private mutating func writeHelpIfPending() {
        guard let help = pendingHelp else { return }
        pendingHelp = nil
        buffer.writeString("# HELP \(current) \(Self.escapedHelp(help))\n# TYPE \(current) gauge\n")
    }

    /// Writes a line's bytes through a raw pointer into room reserved for it (see ``write``).
    struct LineWriter {
        let base: UnsafeMutableRawPointer
        var count = 0

        mutating func put(_ byte: UInt8) {
            base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
            count += 1
        }

        mutating func put(_ text: StaticString) {
            (base + count).copyMemory(from: text.utf8Start, byteCount: text.utf8CodeUnitCount)
            count += text.utf8CodeUnitCount
        }

        mutating func put(_ text: String) {
            var text = text
            text.withUTF8 { bytes in
                guard let start = bytes.baseAddress else { return }
                (base + count).copyMemory(from: start, byteCount: bytes.count)
                count += bytes.count
            }
        }

        /// `label="value"`, the value escaped as the text format requires (backslash, double quote, line feed).
        mutating func putLabel(_ label: StaticString, _ value: String) {
            put(label)
            put(UInt8(ascii: "="))
            put(UInt8(ascii: "\""))
            var value = value
            value.withUTF8 { bytes in
                for byte in bytes {
                    switch byte {
                    case UInt8(ascii: "\\"), UInt8(ascii: "\""):
                        put(UInt8(ascii: "\\"))
                        put(byte)
                    case UInt8(ascii: "\n"):
                        put(UInt8(ascii: "\\"))
                        put(UInt8(ascii: "n"))
                    default:
                        put(byte)
                    }
                }
            }
            put(UInt8(ascii: "\""))
        }

        mutating func putInteger(_ value: Int64) {
            if value < 0 { put(UInt8(ascii: "-")) }
            var magnitude = value.magnitude
            var digits = 1
            var scale: UInt64 = 10
            while digits < 20, magnitude >= scale {
                digits += 1
                scale = scale &* 10
            }
            var position = count + digits - 1
            repeat {
                base.storeBytes(of: UInt8(ascii: "0") + UInt8(magnitude % 10), toByteOffset: position, as: UInt8.self)
                magnitude /= 10
                position -= 1
            } while magnitude > 0
            count += digits
        }

        /// Unix seconds with at most three decimals, trailing zeros dropped: `1796199107.91`, `1800000000`.
        mutating func putSeconds(_ seconds: Double) {
            guard seconds.isFinite, abs(seconds) < 9_000_000_000_000 else { return putNumber(seconds) }
            let milliseconds = Int64((seconds * 1_000).rounded())
            let negative = milliseconds < 0
            let magnitude = milliseconds.magnitude
            if negative { put(UInt8(ascii: "-")) }
            putInteger(Int64(magnitude / 1_000))
            var fraction = Int64(magnitude % 1_000)
            guard fraction != 0 else { return }
            put(UInt8(ascii: "."))
            var digits = 3
            while fraction % 10 == 0 {
                fraction /= 10
                digits -= 1
            }
            var divisor: Int64 = digits == 3 ? 100 : digits == 2 ? 10 : 1
            while divisor > 0 {
                put(UInt8(ascii: "0") + UInt8(fraction / divisor % 10))
                divisor /= 10
            }
        }

        /// Integral values without a fraction (counts, 0/1); others as Swift writes them.
        mutating func putNumber(_ value: Double) {
            if value.isFinite, value.rounded() == value, abs(value) < 9_007_199_254_740_992 {
                putInteger(Int64(value))
            } else if value.isNaN {
                put("NaN")
            } else if value.isInfinite {
                put(value > 0 ? "+Inf" : "-Inf")
            } else {
                put(value.description)
            }
        }
    }

    // MARK: Values

    /// `value` as a sample's value is written (tests and the rare caller outside a sample).
    static func format(_ value: Double) -> String {
        written { $0.putNumber(value) }
    }

    /// `seconds` as a timestamp sample's value is written.
    static func formatSeconds(_ seconds: Double) -> String {
        written { $0.putSeconds(seconds) }
    }

    private static func written(_ body: (inout LineWriter) -> Void) -> String {
        var buffer = ByteBuffer()
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 64) { destination in
            var line = LineWriter(base: destination.baseAddress!)
            body(&line)
            return line.count
        }
        return String(buffer: buffer)
    }

    // MARK: Escaping

    /// HELP text: backslash and line feed escaped.
    static func escapedHelp(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }
}
