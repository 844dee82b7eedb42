import Foundation
import GRDB
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real `tenantsyncd` binary: start, signals, start-up failures.
@Suite("Daemon lifecycle", .serialized)
struct DaemonLifecycleTests {
    @Test func versionFlagPrintsTheVersion() async throws {
        let result = try await DaemonProcess.runToExit(arguments: ["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
    }

    @Test func checkConfigAcceptsAValidFile() async throws {
        let sandbox = try DaemonSandbox()
        try sandbox.writeConfig()
        let result = try await DaemonProcess.runToExit(arguments: ["--check-config", "--config", sandbox.configPath])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: sandbox.stateDirectory), "--check-config must not create state")
    }

    @Test func checkConfigRejectsAnUnknownKeyWithFileLineAndExit78() async throws {
        let sandbox = try DaemonSandbox()
        try sandbox.writeConfig("\n[tokens]\nrefresh_margn = \"10m\"\n")
        let result = try await DaemonProcess.runToExit(arguments: ["--check-config", "--config", sandbox.configPath])
        #expect(result.status == 78)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "one line on stderr, got: \(result.stderr)")
        #expect(result.stderr.hasPrefix("tenantsyncd: \(sandbox.configPath):7: unknown key \"refresh_margn\""), "got: \(result.stderr)")
    }

    @Test func sigtermStopsGracefullyWithExitZeroAndAConsistentDatabase() async throws {
        let sandbox = try DaemonSandbox()
        try sandbox.writeConfig()
        let daemon = try DaemonProcess(arguments: ["--config", sandbox.configPath])
        #expect(await daemon.waitForLog("tenantsyncd started"), "never started: \(daemon.log)")
        daemon.signal(SIGTERM)
        let status = await daemon.waitForExit(timeout: .seconds(15))
        #expect(status == 0, "exit status \(String(describing: status)); log: \(daemon.log)")
        #expect(daemon.log.contains("tenantsyncd stopped"))
        let queue = try DatabaseQueue(path: sandbox.databasePath)
        let check = try await queue.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        #expect(check == ["ok"])
        let version = try await queue.read { db in try Int.fetchOne(db, sql: "SELECT max(version) FROM schema_migrations") }
        #expect((version ?? 0) >= 1)
        let keyMode = try FileManager.default.attributesOfItem(atPath: sandbox.stateDirectory + "/tenantsync.key")[.posixPermissions] as? NSNumber
        #expect(keyMode?.intValue == 0o600)
    }

    /// A database with a damaged page stops the start with one line and exit 74 (EX_IOERR), which the
    /// unit's RestartPreventExitStatus= keeps systemd from restarting in a loop.
    @Test func corruptDatabaseStopsTheStartWithExit74AndOneLine() async throws {
        let sandbox = try DaemonSandbox()
        try sandbox.writeConfig()
        let first = try DaemonProcess(arguments: ["--config", sandbox.configPath])
        #expect(await first.waitForLog("tenantsyncd started"), "never started: \(first.log)")
        first.signal(SIGTERM)
        #expect(await first.waitForExit() == 0, "log: \(first.log)")

        let queue = try DatabaseQueue(path: sandbox.databasePath)
        let (rootPage, pageSize) = try await queue.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT rootpage FROM sqlite_master WHERE name = 'tenants'") ?? 0,
                try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            )
        }
        try queue.close()
        try #require(rootPage > 1)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: sandbox.databasePath))
        try handle.seek(toOffset: UInt64((rootPage - 1) * pageSize))
        try handle.write(contentsOf: Data(repeating: 0xA5, count: pageSize))
        try handle.close()

        let result = try await DaemonProcess.runToExit(arguments: ["--config", sandbox.configPath])
        #expect(result.status == 74, "stderr: \(result.stderr)")
        // Log lines may precede it; the exit line is the operator's one-line answer.
        let exitLine = result.stderr.split(separator: "\n").first { $0.hasPrefix("tenantsyncd: cannot start:") }
        #expect(
            exitLine?.contains("The state database \(sandbox.databasePath) is corrupt (quick_check") == true,
            "expected one exit line naming the corrupt file, got: \(result.stderr)"
        )
    }

    @Test func sigintAlsoStopsGracefully() async throws {
        let sandbox = try DaemonSandbox()
        try sandbox.writeConfig()
        let daemon = try DaemonProcess(arguments: ["--config", sandbox.configPath])
        #expect(await daemon.waitForLog("tenantsyncd started"), "never started: \(daemon.log)")
        daemon.signal(SIGINT)
        #expect(await daemon.waitForExit() == 0, "log: \(daemon.log)")
    }

    @Test func sighupAppliesRuntimeKeysAndNamesTheOnesNeedingARestart() async throws {
        let sandbox = try DaemonSandbox()
        try sandbox.writeConfig("[tokens]\nrefresh_margin = \"10m\"\n")
        let daemon = try DaemonProcess(arguments: ["--config", sandbox.configPath])
        #expect(await daemon.waitForLog("tenantsyncd started"), "never started: \(daemon.log)")

        // A broken file is refused; the daemon keeps running on the old configuration.
        try Data("[tokens]\nrefresh_margin = \"soon\"\n".utf8).write(to: URL(fileURLWithPath: sandbox.configPath))
        daemon.signal(SIGHUP)
        #expect(await daemon.waitForLog("Configuration reload refused"), "log: \(daemon.log)")
        #expect(daemon.log.contains("\(sandbox.configPath):2:"), "the refusal names file:line: \(daemon.log)")

        let text = """
            [daemon]
            state_directory = "\(sandbox.stateDirectory)"
            control_socket = "\(sandbox.path)/control-moved"
            shutdown_timeout = "10s"
            [tokens]
            refresh_margin = "20m"
            """
        try Data(text.utf8).write(to: URL(fileURLWithPath: sandbox.configPath))
        daemon.signal(SIGHUP)
        #expect(await daemon.waitForLog("Configuration reloaded"), "log: \(daemon.log)")
        #expect(daemon.log.contains("config.applied=tokens.refresh_margin"), "log: \(daemon.log)")
        #expect(daemon.log.contains("config.needs_restart=daemon.control_socket"), "log: \(daemon.log)")
        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0)
    }

    @Test func aSecondDaemonOnTheSameStateDirectoryIsRefused() async throws {
        let sandbox = try DaemonSandbox()
        try sandbox.writeConfig()
        let first = try DaemonProcess(arguments: ["--config", sandbox.configPath])
        #expect(await first.waitForLog("tenantsyncd started"), "never started: \(first.log)")
        let second = try await DaemonProcess.runToExit(arguments: ["--config", sandbox.configPath])
        #expect(second.status == 75, "stderr: \(second.stderr)")
        #expect(second.stderr.contains("Another tenantsyncd is using the state directory"), "stderr: \(second.stderr)")
        #expect(second.stderr.split(separator: "\n").count == 1)
        first.signal(SIGTERM)
        #expect(await first.waitForExit() == 0)
    }

    @Test func unusableStateDirectoryFailsWithOneClearLine() async throws {
        let sandbox = try DaemonSandbox()
        try sandbox.writeConfig()
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: sandbox.stateDirectory))
        let result = try await DaemonProcess.runToExit(arguments: ["--config", sandbox.configPath])
        #expect(result.status == 74)
        #expect(result.stderr == "tenantsyncd: cannot start: The state directory \(sandbox.stateDirectory) exists but is not a directory.\n")
    }

    @Test func corruptDatabaseFailsWithOneClearLineAndIsNotTouched() async throws {
        let sandbox = try DaemonSandbox()
        try sandbox.writeConfig()
        try FileManager.default.createDirectory(atPath: sandbox.stateDirectory, withIntermediateDirectories: true)
        let garbage = Data((0..<16384).map { UInt8($0 % 251) })
        try garbage.write(to: URL(fileURLWithPath: sandbox.databasePath))
        let result = try await DaemonProcess.runToExit(arguments: ["--config", sandbox.configPath])
        #expect(result.status == 74, "stderr: \(result.stderr)")
        #expect(result.stderr.hasPrefix("tenantsyncd: cannot start: "), "stderr: \(result.stderr)")
        #expect(result.stderr.contains(sandbox.databasePath))
        #expect(result.stderr.split(separator: "\n").count == 1, "stderr: \(result.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: sandbox.databasePath)) == garbage)
    }
}
