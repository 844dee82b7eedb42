import ControlPlane
import Foundation
import GRDB
import Logging
import M365Emulator
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The emulator in-process, the real `tenantsyncd` pointed at it, and `tenantsyncctl` to drive provisioning.
struct ProvisioningHarness: Sendable {
    let emulator: M365Emulator
    let baseURL: String
    let socket: String
    let directory: String
    let tenant: TenantInfo
    /// The daemon process; a test may stop it itself (the harness then only checks it is gone).
    let daemon: DaemonProcess

    /// Starts the emulator (one tenant, one-second device-code polling) and the daemon, runs `body`, stops both.
    ///
    /// `extraConfig` follows the `[daemon]` keys: more daemon keys, or whole tables (`[smtp]`). With `log_target = "journal"` the
    /// daemon logs nothing to stderr, so readiness is also recognised by the control socket answering.
    static func with(
        users: Int = 30, groups: Int = 9, extraConfig: String = "", tenantSettings: TenantSettings = TenantSettings(deviceCodeIntervalSeconds: 1),
        stateFileSystemBytes: Int? = nil, environment: [String: String] = [:], _ body: @Sendable (ProvisioningHarness) async throws -> Void
    ) async throws {
        let settings = tenantSettings
        let configuration = EmulatorConfiguration(tenants: 1, usersPerTenant: users, groupsPerTenant: groups, seed: 11, tenantSettings: settings)
        try await M365Emulator.withRunning(configuration: configuration, logger: Logger(label: "emulator")) { emulator, url in
            let sandbox = try DaemonSandbox()
            // A state directory on a file system of its own (a size-limited tmpfs, mounted in the test's private mount
            // namespace), which a test can fill under the running daemon.
            var mounted = false
            if let bytes = stateFileSystemBytes {
                try FileManager.default.createDirectory(atPath: sandbox.stateDirectory, withIntermediateDirectories: true)
                try runTool("/bin/mount", ["-t", "tmpfs", "-o", "size=\(bytes),mode=0700", "tenantsync-state", sandbox.stateDirectory])
                mounted = true
            }
            defer { if mounted { _ = try? runTool("/bin/umount", ["-l", sandbox.stateDirectory]) } }
            let base = url.absoluteString.hasSuffix("/") ? String(url.absoluteString.dropLast()) : url.absoluteString
            try Data(EmulatorDefaults.clientSecret.utf8).write(to: URL(fileURLWithPath: sandbox.path + "/client-secret"))
            try sandbox.writeConfig("""
                \(extraConfig)

                [microsoft]
                authority = "\(base)"
                graph = "\(base)"
                outlook = "\(base)/outlook"
                management = "\(base)/manage"
                client_secret_file = "\(sandbox.path)/client-secret"

                # A real alert channel: every alert's JSON is appended to a file the tests read.
                [[hooks]]
                name = "record"
                command = ["/bin/sh", "-c", "cat >> \(sandbox.path)/alerts.jsonl; echo >> \(sandbox.path)/alerts.jsonl"]
                """)
            let daemon = try DaemonProcess(arguments: ["--config", sandbox.configPath], environment: environment)
            try #require(await daemon.waitUntilServing(socket: sandbox.path + "/control"), "daemon never started: \(daemon.log)")
            let harness = ProvisioningHarness(
                emulator: emulator, baseURL: base, socket: sandbox.path + "/control", directory: sandbox.path,
                tenant: emulator.tenants()[0], daemon: daemon
            )
            do {
                try await body(harness)
            } catch {
                // A crash report is long: show its head (the reason and the crashing thread), else the log's tail.
                let log = daemon.log
                if let crash = log.range(of: "Program crashed") {
                    Issue.record("daemon crashed:\n\(log[crash.lowerBound...].prefix(6000))")
                } else {
                    Issue.record("daemon log:\n\(log.suffix(4000))")
                }
                throw error
            }
            // No secret ever reaches the daemon's log.
            #expect(!daemon.log.contains(EmulatorDefaults.clientSecret))
            #expect(!daemon.log.contains(ProvisioningHarness.teamsSecret))
            if daemon.isRunning {
                daemon.signal(SIGTERM)
                #expect(await daemon.waitForExit() == 0, "log: \(daemon.log.suffix(2000))")
            }
            withExtendedLifetime(sandbox) {}
        }
    }

    /// Runs a system tool to completion; throws when it fails.
    @discardableResult
    static func runTool(_ path: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ToolFailed(description: "\(path) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
        return process.terminationStatus
    }

    struct ToolFailed: Error, CustomStringConvertible { var description: String }

    static let teamsAppID = "0c7b9a52-4f2e-4d3a-9b1c-2e3f4a5b6c7d"
    static let teamsSecret = "teams-app-secret-value-42"
    static let teamsPermissions = ["Chat.Read.All", "Chat.UpdatePolicyViolation.All", "Files.ReadWrite.All", "Group.Read.All", "User.Read.All"]

    struct Run: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
        var all: String { stdout + stderr }
    }

    /// Starts `tenantsyncctl` on the harness's socket (never the caller's `TENANTSYNC_SOCKET`), its output in pipes.
    func startCtl(_ arguments: [String]) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = DaemonProcess.binDirectory.appendingPathComponent("tenantsyncctl")
        process.arguments = ["--socket", socket] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "TENANTSYNC_SOCKET")
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, out, err)
    }

    /// Runs `tenantsyncctl` with the given arguments; meanwhile the administrator decides the next device codes in order.
    func ctl(_ arguments: [String], approvals: [Bool] = [], timeout: Duration = .seconds(90)) async throws -> Run {
        let (process, out, err) = try startCtl(arguments)
        for approve in approvals {
            try await emulator.decideNextDeviceCode(tenant: tenant.id, approve: approve, wait: .seconds(20))
        }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline { kill(process.processIdentifier, SIGKILL) }
            try await Task.sleep(for: .milliseconds(50))
        }
        let stdout = String(decoding: out.fileHandleForReading.readAllRetryingInterrupts(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readAllRetryingInterrupts(), as: UTF8.self)
        return Run(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }

    /// Provisions with the device-code flow (the administrator approving `consents` codes).
    func provision(_ service: String, _ extra: [String] = [], approvals: [Bool] = []) async throws -> Run {
        try await ctl(["provision", service, "--tenant", tenant.domain, "--device-code"] + extra, approvals: approvals)
    }

    /// A client on the real control socket, for reading what the daemon recorded.
    func withClient<T>(_ body: (ControlClient) async throws -> T) async throws -> T {
        try await ControlClient.withConnection(to: socket, body)
    }

    func account(_ service: String) async throws -> AccountSummary? {
        try await withClient { try await $0.listAccounts() }.accounts.first { $0.service.rawValue == service }
    }

    func detail(_ id: Int64) async throws -> AccountDetail {
        try await withClient { try await $0.account(id: id) }
    }

    /// Each grant's stored token-set generation (by grant name), read from the daemon's database.
    ///
    /// The store bumps it on every token set it writes, so it moves only when the daemon stored new tokens,
    /// whatever Microsoft issued.
    func tokenGenerations(accountID: Int64) async throws -> [String: Int] {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: directory + "/state/tenantsync.sqlite", configuration: configuration)
        defer { try? queue.close() }
        let rows = try await queue.read { db in
            try Row.fetchAll(db, sql: """
                SELECT g.name AS name, t.generation AS generation
                FROM grants g JOIN token_sets t ON t.grant_id = g.id WHERE g.account_id = ?
                """, arguments: [accountID])
        }
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["name"] as String, $0["generation"] as Int) })
    }

    func alerts() async throws -> [AlertInfo] {
        try await withClient { try await $0.listAlerts(ListAlertsRequest(all: true, limit: 100)).alerts }
    }

    /// The daemon's configuration file (a test may rewrite it and reload).
    var configPath: String { directory + "/tenantsyncd.toml" }
    /// The client secret file the configuration names.
    var clientSecretPath: String { directory + "/client-secret" }

    /// Writes a secret file the CLI reads.
    func secretFile(_ secret: String) throws -> String {
        let path = directory + "/secret-\(UUID().uuidString.prefix(6))"
        try Data(secret.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Registers the customer's own Teams app in the tenant.
    func registerTeamsApp(permissions: [String] = teamsPermissions) throws {
        try emulator.registerApp(tenant: tenant.id, AppRegistration(
            appId: Self.teamsAppID, displayName: "Contoso Teams protection", secret: Self.teamsSecret,
            graphPermissions: permissions, consented: true
        ))
    }
}
