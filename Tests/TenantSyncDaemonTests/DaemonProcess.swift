import ControlPlane
import Foundation
import Synchronization
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The real `tenantsyncd` binary, started by a test with its own config and state directory.
final class DaemonProcess: Sendable {
    /// The directory holding the built executables (next to the test bundle).
    static var binDirectory: URL {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("tenantsyncd").path) { return directory }
            directory = directory.deletingLastPathComponent()
        }
        return testBinary.deletingLastPathComponent()
    }

    static var executable: String { binDirectory.appendingPathComponent("tenantsyncd").path }

    private let process: Process
    /// When the process was started: with its PID, names it in the journal (a PID alone may be an earlier process's).
    let startedAt: Date
    /// The daemon's stderr goes to a file: reading a pipe from Foundation traps on EINTR.
    private let logPath: String

    /// Starts `tenantsyncd` with the given arguments; stderr is collected for ``waitForLog(_:timeout:)``.
    ///
    /// `executable` runs something else that ends up exec'ing the daemon (`systemd-socket-activate`).
    init(arguments: [String], environment: [String: String] = [:], executable: String = DaemonProcess.executable) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        merged.removeValue(forKey: "NOTIFY_SOCKET")
        merged.removeValue(forKey: "JOURNAL_STREAM")
        merged.removeValue(forKey: "LISTEN_FDS")
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        logPath = NSTemporaryDirectory() + "tenantsyncd-test-" + UUID().uuidString + ".log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = FileHandle.nullDevice
        startedAt = Date()
        try process.run()
    }

    var pid: pid_t { process.processIdentifier }

    /// This process's journal entries that match `matches`: its PID, and written since it started.
    func journalEntries(matching matches: [String], atLeast count: Int = 1) async throws -> [[String: Any]] {
        try await Journald.entries(matching: matches + ["_PID=\(pid)"], since: startedAt, atLeast: count)
    }
    var isRunning: Bool { process.isRunning }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until stderr contains `text`; returns whether it did in time.
    func waitForLog(_ text: String, timeout: Duration = .seconds(20)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if log.contains(text) { return true }
            if !process.isRunning { return log.contains(text) }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Waits until the daemon logged its start or answers on its control socket (when it logs to the journal).
    func waitUntilServing(socket: String, timeout: Duration = .seconds(20)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if log.contains("tenantsyncd started") { return true }
            if !process.isRunning { return false }
            if FileManager.default.fileExists(atPath: socket),
               (try? await ControlClient.withConnection(to: socket, { try await $0.status() })) != nil {
                return true
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to exit; returns its status, or nil on timeout (the process is then killed).
    func waitForExit(timeout: Duration = .seconds(20)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return nil
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: logPath)
    }

    /// Runs the binary to completion (for `--check-config`, `--version`, start-up failures).
    static func runToExit(arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(30)) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var merged = ProcessInfo.processInfo.environment
        merged.removeValue(forKey: "NOTIFY_SOCKET")
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { kill(process.processIdentifier, SIGKILL) }
            try await Task.sleep(for: .milliseconds(20))
        }
        let stdout = String(decoding: out.fileHandleForReading.readAllRetryingInterrupts(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readAllRetryingInterrupts(), as: UTF8.self)
        return (process.terminationStatus, stdout, stderr)
    }
}

/// A temporary directory with a config file pointing the daemon at it.
final class DaemonSandbox {
    let path: String

    init() throws {
        // Short paths: Unix socket paths are limited to 108 bytes.
        path = "/tmp/tsd-" + String(UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    var configPath: String { path + "/tenantsyncd.toml" }
    var stateDirectory: String { path + "/state" }
    var databasePath: String { stateDirectory + "/tenantsync.sqlite" }

    /// Writes the sealing key the daemon will read, owned by us with mode 0600 as the daemon requires.
    func writeKey(_ key: [UInt8]) throws {
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        let path = stateDirectory + "/tenantsync.key"
        guard FileManager.default.createFile(atPath: path, contents: Data(key), attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
    }

    func writeConfig(_ extra: String = "") throws {
        let text = """
            [daemon]
            state_directory = "\(stateDirectory)"
            control_socket = "\(path)/control"
            shutdown_timeout = "10s"
            \(extra)
            """
        try Data(text.utf8).write(to: URL(fileURLWithPath: configPath))
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}
