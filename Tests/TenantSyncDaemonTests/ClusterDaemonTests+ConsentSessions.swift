import Foundation
import Logging
import M365Emulator
import Testing
import TestSupport
@testable import TenantSyncDaemon
#if canImport(Glibc)
import Glibc
#endif

/// Provisioning on a cluster: an account's consent session is held by one node at a time, and a device code shown by
/// a node that died is continued by another.
extension ClusterDaemonTests {
    @Test("a consent session is one node's at a time; after that node is killed, another node continues it with the code the administrator already has")
    func aDeadNodesConsentSessionIsContinuedElsewhere() async throws {
        let server = try await PostgreSQLServer.shared()
        let database = try await server.createDatabase()
        let configuration = EmulatorConfiguration(
            tenants: 1, usersPerTenant: 5, groupsPerTenant: 1, seed: 8, tenantSettings: TenantSettings(deviceCodeIntervalSeconds: 1)
        )
        var emulatorLogger = Logger(label: "emulator")
        emulatorLogger.logLevel = .critical
        try await M365Emulator.withRunning(configuration: configuration, logger: emulatorLogger) { emulator, url in
            let tenant = try #require(emulator.tenants().first)
            let window = Self.nextMinute(after: Date().addingTimeInterval(12 * 3_600))
            var nodes = try await Self.startNodes(2, server: server, database: database, url: url, secret: emulator.configuration.clientSecret, dailyWindowStart: window)
            defer { Self.kill(nodes) }
            let provision = ["provision", "sharepoint-online", "--tenant", tenant.domain, "--device-code", "--scope", "all"]

            // node-1 shows a device code and waits for the administrator.
            let first = try Self.startCtl(nodes[0], provision)
            defer { if first.isRunning { first.terminate() } }
            let shown = try await Self.eventually(timeout: .seconds(30), "node-1 shows a device code") {
                try !emulator.pendingDeviceCodes(tenant: tenant.id).isEmpty
            }
            try #require(shown, "no device code was asked for")

            // Meanwhile the same provisioning asked on node-2 is refused: node-1 holds the account's consent session.
            let refused = try await Self.ctlBounded(nodes[1], provision)
            #expect(refused.status != 0, "node-2 drove the account node-1 drives: \(refused.stdout)\(refused.stderr)")
            #expect((refused.stdout + refused.stderr).contains("by a session on another node of the cluster"), "\(refused.stdout)\(refused.stderr)")

            // node-1 dies before the administrator signs in; then the administrator approves the code node-1 showed.
            nodes[0].process!.signal(SIGKILL)
            _ = await nodes[0].process!.waitForExit(timeout: .seconds(10))
            try await emulator.decideNextDeviceCode(tenant: tenant.id, approve: true)

            // node-2 continues once node-1's lease has expired: it polls the stored code, so the sign-in is not lost.
            var continued: ChildProcess.Result?
            let tookOver = try await Self.eventually(timeout: .seconds(Self.leaseSeconds + 20), "node-2 continues the consent session") {
                let run = try await Self.ctlBounded(nodes[1], provision)
                continued = run
                return !(run.stdout + run.stderr).contains("another node of the cluster")
            }
            let output = (continued?.stdout ?? "") + (continued?.stderr ?? "")
            #expect(tookOver, "node-2 never took the consent session over: \(output)")
            #expect(output.contains("--confirm-app-principal"), "the consent stage did not complete with the approved code: \(output)")
            let counters = try emulator.counters(tenant: tenant.id)
            #expect(counters["devicecode"] == 1, "a new device code was asked for instead of the one the administrator approved: \(counters)")
            let step = try await Self.value(server, database, "SELECT provisioning_step FROM service_accounts")
            #expect(step == "app-principal", "the account is at \(step)")
            let pending = try await Self.value(server, database, "SELECT count(*) FROM consent_sessions")
            #expect(pending == "0", "the answered consent is still pending")
            await Self.stop(nodes[1...], password: server.password)
            nodes[1].process = nil
        }
    }

    /// `tenantsyncctl` on a node's socket, killed after 60 s (a client that waits for a consent nobody gives).
    static func ctlBounded(_ node: Node, _ arguments: [String]) async throws -> ChildProcess.Result {
        let ctl = DaemonProcess.binDirectory.appendingPathComponent("tenantsyncctl").path
        return try await ChildProcess.run("/usr/bin/timeout", ["60", ctl, "--socket", node.socket] + arguments, environment: ["PATH": "/usr/bin:/bin"])
    }

    /// `tenantsyncctl` started on a node's socket and left running, its output discarded.
    static func startCtl(_ node: Node, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = DaemonProcess.binDirectory.appendingPathComponent("tenantsyncctl")
        process.arguments = ["--socket", node.socket] + arguments
        process.environment = ["PATH": "/usr/bin:/bin"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }
}
