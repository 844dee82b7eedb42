import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real systemd-journald for the tests: the machine's if one runs, else one started here and stopped afterwards.
///
/// Test targets share the machine-wide `/run/systemd/journal`, so an
/// exclusive `flock` serializes them (a journald one test started must not be
/// stopped under another).
public enum Journald {
    public static let socketPath = "/run/systemd/journal/socket"
    public static let lockPath = "/tmp/tenantsync-tests-journald.lock"

    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `body` with a journald accepting native entries.
    public static func with<T>(_ body: () async throws -> T) async throws -> T {
        try await locked { try await withJournaldLocked(body) }
    }

    /// Runs `body` while no journald listens (with the lock held, so no other test starts one meanwhile).
    ///
    /// Throws ``Unavailable`` when a journald the tests do not own listens: a test of the daemon without
    /// journald then fails instead of passing without having checked anything.
    public static func without<T>(_ body: () async throws -> T) async throws -> T {
        try await locked {
            guard !isListening() else {
                throw Unavailable(description: "a systemd-journald the tests do not own listens at \(socketPath); run the tests where none does (the in-wt wrapper gives a private /run/systemd)")
            }
            removeSocketFiles()
            return try await body()
        }
    }

    /// Runs `body` holding the machine-wide journald lock.
    private static func locked<T>(_ body: () async throws -> T) async throws -> T {
        let lock = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw Unavailable(description: "cannot open \(lockPath)") }
        defer { close(lock) }
        while flock(lock, LOCK_EX | LOCK_NB) != 0 {
            try await Task.sleep(for: .milliseconds(50))
        }
        defer { flock(lock, LOCK_UN) }
        return try await body()
    }

    private static func withJournaldLocked<T>(_ body: () async throws -> T) async throws -> T {
        if isListening() { return try await body() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/lib/systemd/systemd-journald")
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        // A clean environment: journald must not inherit a test's NOTIFY_SOCKET and talk to it.
        process.environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]
        try FileManager.default.createDirectory(atPath: "/run/systemd/journal", withIntermediateDirectories: true)
        try process.run()
        do {
            for _ in 0..<100 where !isListening() {
                try await Task.sleep(for: .milliseconds(50))
            }
            guard isListening() else { throw Unavailable(description: "systemd-journald did not start listening on \(socketPath)") }
            let result = try await body()
            await stop(process)
            return result
        } catch {
            await stop(process)
            throw error
        }
    }

    private static func stop(_ process: Process) async {
        process.terminate()
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        removeSocketFiles()
    }

    /// journald leaves its sockets behind; removes them so the next check (and the daemon's) sees no journald.
    private static func removeSocketFiles() {
        for name in ["socket", "stdout", "dev-log", "io.systemd.journal"] {
            unlink("/run/systemd/journal/" + name)
        }
    }

    /// Whether a journald answers on the socket (a leftover socket file refuses the connection).
    public static func isListening() -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(socketPath.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }

    /// Reads entries back with `journalctl -o json`, retrying until `count` arrived (journald stores asynchronously).
    ///
    /// `since` leaves out entries written before it (to the second): a `_PID=` match alone also finds an earlier
    /// process that had the same PID, and PIDs wrap after 32,768 on these machines (a build spawns thousands).
    public static func entries(matching matches: [String], since: Date? = nil, atLeast count: Int = 1) async throws -> [[String: Any]] {
        let window = since.map { ["--since=@\(Int64($0.timeIntervalSince1970.rounded(.down)))"] } ?? []
        var found: [[String: Any]] = []
        for _ in 0..<100 {
            found = try await journalctl(["-o", "json", "--no-pager"] + window + matches)
                .split(separator: "\n")
                .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            if found.count >= count { return found }
            try await Task.sleep(for: .milliseconds(100))
        }
        return found
    }

    /// Runs journalctl and returns its stdout.
    public static func journalctl(_ arguments: [String], executable: String = "/usr/bin/journalctl") async throws -> String {
        try await offThread { try journalctlBlocking(arguments, executable: executable) }
    }

    public static func journalctlBlocking(_ arguments: [String], executable: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readAllRetryingInterrupts()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }
}
