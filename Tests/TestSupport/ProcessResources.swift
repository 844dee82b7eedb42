import Foundation

/// What this process holds now, from the kernel: resident memory and open file descriptors.
///
/// For tests that bound a server's resources after a load run in the same process.
public struct ProcessResources: Sendable, CustomStringConvertible {
    /// Resident set size (`VmRSS`), in KiB.
    public var residentKiB: Int
    /// Entries in `/proc/self/fd`.
    public var openDescriptors: Int

    public static func current() throws -> ProcessResources {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        let kib = line.flatMap { Int($0.dropFirst("VmRSS:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") }
        guard let kib else { throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "no VmRSS in /proc/self/status"]) }
        // The listing itself opens one descriptor, which is not counted.
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count - 1
        return ProcessResources(residentKiB: kib, openDescriptors: descriptors)
    }

    public var description: String { "RSS \(residentKiB / 1024) MiB, \(openDescriptors) fds" }
}
