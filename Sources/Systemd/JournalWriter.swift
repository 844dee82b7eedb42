import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// Writes structured entries to the journal natively with `sd_journal_sendv(3)`.
///
/// Values may hold newlines and any UTF-8; the native protocol keeps them intact.
public struct JournalWriter: Sendable {
    /// The socket journald listens on for native entries.
    public static let socketPath = "/run/systemd/journal/socket"

    /// An entry the journal did not accept (journald not running, entry too large).
    public struct Error: Swift.Error, Sendable, CustomStringConvertible {
        public var errno: Int32
        public var description: String {
            "Writing to the journal failed: \(String(cString: strerror(errno))) (is systemd-journald running at \(JournalWriter.socketPath)?)."
        }
    }

    public init() {}

    /// Whether journald's native socket exists on this machine.
    public static var isJournalAvailable: Bool {
        access(socketPath, F_OK) == 0
    }

    /// Sends one entry.
    public func send(_ entry: JournalEntry) throws {
        try send(assignments: entry.assignments)
    }

    /// Sends raw `NAME=value` assignments in one entry.
    public func send(assignments: [(name: String, value: String)]) throws {
        // sd_journal_sendv succeeds silently when the socket is missing; an alert channel must know.
        guard Self.isJournalAvailable else { throw Error(errno: ENOENT) }
        var buffer: [UInt8] = []
        var ranges: [Range<Int>] = []
        buffer.reserveCapacity(assignments.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 1 })
        for (name, value) in assignments {
            let start = buffer.count
            buffer.append(contentsOf: name.utf8)
            buffer.append(UInt8(ascii: "="))
            buffer.append(contentsOf: value.utf8)
            ranges.append(start..<buffer.count)
        }
        let result: Int32 = buffer.withUnsafeMutableBytes { bytes in
            let base = bytes.baseAddress!
            let vectors = ranges.map { iovec(iov_base: base + $0.lowerBound, iov_len: $0.count) }
            return vectors.withUnsafeBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
        if result < 0 { throw Error(errno: -result) }
    }
}
