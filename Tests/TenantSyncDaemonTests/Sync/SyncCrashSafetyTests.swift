import Credentials
import AsyncHTTPClient
import ControlPlane
import Foundation
import GRDB
import Logging
import M365Emulator
import MicrosoftCloud
import Testing
import TestSupport
import TenantSyncCore
import TenantSyncStore
#if canImport(Glibc)
import Glibc
#endif

/// SIGKILL of the real daemon in the middle of directory syncs, then restarts.
@Suite("Sync crash safety", .serialized)
struct SyncCrashSafetyTests {
    static let key: [UInt8] = (0..<32).map { UInt8(($0 * 13 + 5) % 256) }

    /// Seeds a daemon state directory with one active Exchange Online account whose Graph grant
    /// holds delegated tokens obtained from the emulator by a real device-code flow.
    static func seed(_ sandbox: DaemonSandbox, emulator: M365Emulator, url: URL, tenant: TenantInfo) async throws {
        try FileManager.default.createDirectory(atPath: sandbox.stateDirectory, withIntermediateDirectories: true)
        try sandbox.writeKey(key)
        var patch = TenantSettingsPatch()
        patch.deviceCodeIntervalSeconds = 1
        _ = try emulator.updateSettings(tenant: tenant.id, patch)
        let identity = try IdentityPlatformClient(
            httpClient: HTTPClient.shared,
            endpoints: MicrosoftEndpoints(authority: url.absoluteString, graph: url.absoluteString, outlook: url.absoluteString + "/outlook"),
            logger: Logger(label: "test")
        )
        let client = OAuthClientCredentials(clientID: emulator.configuration.clientID, clientSecret: Secret(emulator.configuration.clientSecret))
        let authorization = try await identity.startDeviceCode(
            tenant: tenant.id, clientID: client.clientID, scopes: [url.absoluteString + "/.default", "offline_access"]
        )
        _ = try await emulator.decideNextDeviceCode(tenant: tenant.id, approve: true, wait: .seconds(5))
        let tokens = try await identity.pollDeviceCode(tenant: tenant.id, client: client, authorization: authorization)

        let store = try SQLiteStore(path: sandbox.databasePath, sealer: SecretSealer(keyBytes: key), logger: Logger(label: "test"))
        try await store.upsertTenant(id: tenant.id, domain: tenant.domain, displayName: tenant.displayName)
        let account = try await store.createAccount(tenantID: tenant.id, service: .exchangeOnline, appID: nil, licensingModel: nil)
        let grant = try await store.addGrant(accountID: account.id, name: "graph", resource: url.absoluteString + "/.default", flow: .delegated)
        try await store.storeTokenSet(grantID: grant.id, tokens: tokens, nextRefreshAt: tokens.expiresAt.addingTimeInterval(-600))
        try await store.setAccountState(id: account.id, state: .active, provisioningStep: nil, provisioningError: nil)
        try store.close()
    }

    static func config(_ sandbox: DaemonSandbox, url: URL, secret: String) throws {
        try Data(secret.utf8).write(to: URL(fileURLWithPath: sandbox.path + "/client-secret"))
        try sandbox.writeConfig("""
            [microsoft]
            authority = "\(url.absoluteString)"
            graph = "\(url.absoluteString)"
            outlook = "\(url.absoluteString)/outlook"
            client_secret_file = "\(sandbox.path)/client-secret"
            """)
    }

    @Test func killedMidSyncTheDaemonRestartsConsistentAndTheNextRunCompletes() async throws {
        var settings = TenantSettings()
        settings.throttlingEnabled = false
        let configuration = EmulatorConfiguration(tenants: 1, usersPerTenant: 4_000, groupsPerTenant: 150, seed: 11, tenantSettings: settings)
        try await M365Emulator.withRunning(configuration: configuration, logger: Logger(label: "emulator")) { emulator, url in
            let tenant = try #require(emulator.tenants().first)
            let sandbox = try DaemonSandbox()
            try await Self.seed(sandbox, emulator: emulator, url: url, tenant: tenant)
            try Self.config(sandbox, url: url, secret: emulator.configuration.clientSecret)
            // Slow pages so that each kill lands inside a run. The full sync overlaps its requests
            // (users beside groups and a window of member listings), so pages must be slower than
            // for a sequential sync for a kill between 0.2 and 2.5 s to find it still running.
            let pacing = FaultRule(tenant: tenant.id, path: "/v1.0/", kind: .delay, delayMilliseconds: 150)
            let paced = try emulator.addFault(pacing)

            // Each kill lands in a run the database shows `running`, synchronised on the run's own row, not on
            // elapsed time: either as soon as the row exists (no page stored yet) or once its first progress is
            // stored (the users pages of a full run, the first page of a delta run). Later progress is not a usable
            // mark: a full run's count jumps to its total (about 156 pages here) just before the run ends.
            let killAtPages = [1, 0, 1, 0, 1, 0]
            var killedRuns: [Int64] = []
            var killed: [String] = []
            for (round, pages) in killAtPages.enumerated() {
                let daemon = try DaemonProcess(arguments: ["--config", sandbox.configPath])
                #expect(await daemon.waitForLog("tenantsyncd started"), "round \(round): never started: \(daemon.log)")
                if let previous = killedRuns.last {
                    // The restart itself marks the killed run: failed, interrupted, with an end time.
                    let row = try #require(try await Self.runRow(sandbox, id: previous))
                    #expect(row.state == "failed" && row.error?.hasPrefix("interrupted") == true && row.finished,
                            "round \(round): the run killed last round must be marked interrupted at start: \(row)")
                }
                if round == killAtPages.count / 2 {
                    // Halfway, one run completes and commits its delta links: the later kills land in delta runs.
                    let completed = try await ControlClient.withConnection(to: sandbox.path + "/control") { client in
                        try await client.sync(SyncRequest(tenant: tenant.domain)) { _ in }
                    }
                    try #require(completed.done && completed.run.state == .succeeded, "round \(round): the run between the kills: \(completed)")
                    // A delta run reads its users and groups pages at once: its groups page is held back, so the
                    // run is still going once its users page is stored. The first matching fault applies, so the
                    // general pacing is added again after it.
                    try emulator.removeFault(id: try #require(paced.id))
                    _ = try emulator.addFault(FaultRule(tenant: tenant.id, path: "/groups/delta", kind: .delay, delayMilliseconds: 1_500))
                    _ = try emulator.addFault(pacing)
                }
                if round > 0 { try await Self.deltaChange(emulator, tenant: tenant, round: round) }
                _ = try await ControlClient.withConnection(to: sandbox.path + "/control") { client in
                    try await client.sync(SyncRequest(tenant: tenant.domain))
                }
                var target: SyncRunRow?
                let reached = try await eventually(timeout: .seconds(60), "run at \(pages) pages") {
                    // The run going now: the request started it or joined the daily run the start began; the run
                    // killed before is no longer `running` (the restart marked it, checked above).
                    guard let run = try await Self.latestRun(sandbox), run.state == "running", !killedRuns.contains(run.id) else { return false }
                    target = run
                    return run.pages >= pages
                }
                try #require(reached, "round \(round): no running run reached \(pages) pages: \(String(describing: target)); log: \(daemon.log.suffix(2000))")
                let seen = try #require(target)
                let runID = seen.id
                killed.append("\(seen)")
                daemon.signal(SIGKILL)
                #expect(await daemon.waitForExit(timeout: .seconds(10)) != nil, "round \(round): the daemon did not die")

                // What the kill left: the run is still `running` (the kill landed inside it, before any end was
                // written), its progress is at least where it was seen, and the database is intact.
                let left = try #require(try await Self.runRow(sandbox, id: runID), "round \(round): run \(runID) vanished")
                #expect(left.state == "running" && !left.finished, "round \(round): the kill must land inside the run: \(left)")
                #expect(left.pages >= seen.pages, "round \(round): committed progress went back: \(left)")
                let queue = try DatabaseQueue(path: sandbox.databasePath)
                let check = try await queue.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
                #expect(check == ["ok"], "round \(round): integrity after SIGKILL: \(check)")
                try queue.close()
                killedRuns.append(runID)
            }
            #expect(Set(killedRuns).count == killAtPages.count, "each kill hit its own run: \(killedRuns)")
            #expect(killed.prefix(3).allSatisfy { $0.contains(" full ") } && killed.suffix(3).allSatisfy { $0.contains(" delta ") }, "kills in full runs, then in delta runs: \(killed)")
            print("sync crash safety: killed \(killed.joined(separator: "; "))")

            _ = try emulator.clearFaults()
            let daemon = try DaemonProcess(arguments: ["--config", sandbox.configPath])
            #expect(await daemon.waitForLog("tenantsyncd started"), "never started: \(daemon.log)")
            let final = try await ControlClient.withConnection(to: sandbox.path + "/control") { client in
                try await client.sync(SyncRequest(tenant: tenant.domain)) { _ in }
            }
            #expect(final.done && final.run.state == .succeeded, "final run: \(final)")
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == 0, "log: \(daemon.log)")

            let store = try SQLiteStore(path: sandbox.databasePath, sealer: SecretSealer(keyBytes: Self.key), logger: Logger(label: "test"))
            let stored = Set(try await store.directoryUserIDs(tenantID: tenant.id))
            let expected = Set(try emulator.users(tenant: tenant.id, limit: 1_000_000).filter { $0.state == .active }.map(\.id))
            #expect(stored == expected, "after the crashes the directory must match: \(stored.symmetricDifference(expected).count) differ")
            let runs = try await store.syncRuns(tenantID: tenant.id, limit: 20)
            #expect(!runs.contains { $0.state == .running }, "no run may stay 'running' after a restart")
            for id in killedRuns {
                let run = runs.first { $0.id == id }
                #expect(run?.state == .failed && run?.error?.hasPrefix("interrupted") == true, "killed run \(id) must be recorded as interrupted: \(String(describing: run))")
            }
            #expect(try await store.openIncidents().isEmpty, "crashes must not raise token incidents")
            #expect(try store.integrityCheck() == ["ok"])
        }
    }

    /// A sync run's row as the database holds it, read beside the daemon (or after it died).
    struct SyncRunRow: Sendable, CustomStringConvertible {
        var id: Int64
        var state: String
        var mode: String
        var pages: Int
        var error: String?
        var finished: Bool
        var description: String { "run \(id) \(mode) \(state) pages=\(pages) finished=\(finished) error=\(error ?? "-")" }
    }

    static func latestRun(_ sandbox: DaemonSandbox) async throws -> SyncRunRow? {
        try await runRows(sandbox, sql: "SELECT * FROM sync_runs ORDER BY id DESC LIMIT 1", arguments: [])
    }

    static func runRow(_ sandbox: DaemonSandbox, id: Int64) async throws -> SyncRunRow? {
        try await runRows(sandbox, sql: "SELECT * FROM sync_runs WHERE id = ?", arguments: [id])
    }

    private static func runRows(_ sandbox: DaemonSandbox, sql: String, arguments: StatementArguments) async throws -> SyncRunRow? {
        guard FileManager.default.fileExists(atPath: sandbox.databasePath) else { return nil }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        let queue = try DatabaseQueue(path: sandbox.databasePath, configuration: configuration)
        defer { try? queue.close() }
        return try await queue.read { db in
            try Row.fetchOne(db, sql: sql, arguments: arguments).map { row in
                SyncRunRow(id: row["id"], state: row["state"], mode: row["mode"], pages: row["pages"], error: row["error"], finished: row["finished_at"] as String? != nil)
            }
        }
    }

    /// A few directory changes between rounds, so that resumed delta runs have work to do.
    static func deltaChange(_ emulator: M365Emulator, tenant: TenantInfo, round: Int) async throws {
        _ = try emulator.createUser(tenant: tenant.id, UserDraft(userPrincipalName: "crash\(round)@\(tenant.domain)", displayName: "Crash \(round)"))
        if let victim = try emulator.users(tenant: tenant.id, limit: 50).filter({ $0.state == .active }).dropFirst(round).first {
            try emulator.deleteUser(tenant: tenant.id, user: victim.id, hard: round % 2 == 0)
        }
    }
}
