import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a process holds now, from the kernel: resident memory and open file descriptors.
///
/// For tests that bound a server's resources after a load run (a daemon they started, or this process).
public struct ProcessResources: Sendable, CustomStringConvertible {
    /// Resident set size (`VmRSS`), in KiB.
    public var residentKiB: Int
    /// Entries in `/proc/self/fd`.
    public var openDescriptors: Int

    /// The resources of `pid` (this process by default).
    public static func current(pid: pid_t = getpid()) throws -> ProcessResources {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
        let kib = line.flatMap { Int($0.dropFirst("VmRSS:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") }
        guard let kib else { throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "no VmRSS in /proc/self/status"]) }
        // Listing our own descriptors opens one more, which is not counted.
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count - (pid == getpid() ? 1 : 0)
        return ProcessResources(residentKiB: kib, openDescriptors: descriptors)
    }

    /// How many of `pid`'s descriptors are Unix sockets bound to `path`: a server's listener and the connections
    /// it accepted on it (an accepted socket carries the listener's address in `/proc/net/unix`).
    public static func unixSockets(boundTo path: String, heldBy pid: pid_t) throws -> Int {
        // Read to the end: procfs files report size 0, and the table runs to many pages on a busy machine.
        guard let handle = FileHandle(forReadingAtPath: "/proc/net/unix") else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "cannot open /proc/net/unix"])
        }
        defer { try? handle.close() }
        let table = String(decoding: handle.readAllRetryingInterrupts(), as: UTF8.self)
        var inodes: Set<String> = []
        for line in table.split(separator: "\n").dropFirst() {
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            // Num RefCount Protocol Flags Type St Inode Path
            if columns.count >= 8, columns[7] == path { inodes.insert(String(columns[6])) }
        }
        let directory = "/proc/\(pid)/fd"
        var count = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: directory + "/" + name),
                  target.hasPrefix("socket:["), target.hasSuffix("]") else { continue }
            if inodes.contains(String(target.dropFirst("socket:[".count).dropLast())) { count += 1 }
        }
        return count
    }

    public var description: String { "RSS \(residentKiB / 1024) MiB, \(openDescriptors) fds" }
}
