import AsyncHTTPClient
import Credentials
import Foundation
import Logging
import M365Emulator
import MicrosoftCloud
import Testing
import TestSupport
import TenantSyncCore
import TenantSyncPostgreSQL
@testable import TenantSyncDaemon
#if canImport(Glibc)
import Glibc
#endif

/// Three real `tenantsyncd` on one private PostgreSQL database against the emulator: the work is shared by leases.
///
/// The emulator rotates strict refresh tokens (a consumed token is refused once a token issued from it was used,
/// and every redemption of a consumed one is counted), so two nodes redeeming one grant's token would show.
@Suite("Cluster of three daemons", .serialized)
struct ClusterDaemonTests {
    static let key: [UInt8] = (0..<32).map { UInt8(($0 * 37 + 11) % 256) }
    static let leaseSeconds = 6
    static let services: [ServiceKind] = [.exchangeOnline, .sharepointOnline]
    static let grantsPerAccount = 3

    /// One node's sandbox and process.
    struct Node {
        let name: String
        let sandbox: DaemonSandbox
        var process: DaemonProcess?
        var alertsFile: String { sandbox.path + "/alerts.jsonl" }
        var socket: String { sandbox.path + "/control" }
    }

    @Test("three nodes: every due grant refreshed by one node per cycle, each daily sync run once, each alert delivered once; a SIGKILLed node's grants are taken over within the lease duration with no false alert")
    func threeNodesShareTheWorkAndTakeOverADeadNode() async throws {
        let server = try await PostgreSQLServer.shared()
        let database = try await server.createDatabase()
        // Long-lived tokens by default (the synced tenant); the refreshing tenants get three-second tokens below.
        let settings = TenantSettings(strictRefreshTokens: true, strictRefreshTokenRetry: true, throttlingEnabled: false)
        let configuration = EmulatorConfiguration(tenants: 3, usersPerTenant: 20, groupsPerTenant: 3, seed: 9, tenantSettings: settings)
        var emulatorLogger = Logger(label: "emulator")
        emulatorLogger.logLevel = .critical
        try await M365Emulator.withRunning(configuration: configuration, logger: emulatorLogger) { emulator, url in
            let tenants = emulator.tenants()
            let refreshing = Array(tenants.prefix(2))
            for tenant in refreshing {
                _ = try emulator.updateSettings(tenant: tenant.id, TenantSettingsPatch(accessTokenLifetimeSeconds: 3))
            }
            let grantIDs = try await Self.seed(server: server, database: database, emulator: emulator, url: url, tenants: tenants)
            let refreshingGrants = grantIDs.filter { refreshing.map(\.id).contains($0.tenantID) }.map(\.grantID)

            // The daily window opens at the next minute (UTC): every tenant's slot falls within it, after all three
            // nodes are up, so all three plan the same runs at the same moment.
            let window = Self.nextMinute(after: Date())
            let nodes = try await Self.startNodes(3, server: server, database: database, url: url, secret: emulator.configuration.clientSecret, dailyWindowStart: window)
            defer { Self.kill(nodes) }
            let redemptions = { () throws -> (count: Int, reused: Int, retried: Int) in
                try refreshing.reduce((0, 0, 0)) { sum, tenant in
                    let counters = try emulator.counters(tenant: tenant.id)
                    return (
                        sum.0 + (counters["token.refresh_token"] ?? 0), sum.1 + (counters["token.refresh_token.reused"] ?? 0),
                        sum.2 + (counters["token.refresh_token.retried"] ?? 0)
                    )
                }
            }

            // Steady state: every grant refreshes every second or two, all three nodes claiming at once.
            let start = try await Self.generations(server, database)
            let refreshedThrice = try await Self.eventually(timeout: .seconds(40), "every grant refreshed three times") {
                let now = try await Self.generations(server, database)
                return refreshingGrants.allSatisfy { (now[$0] ?? 0) >= (start[$0] ?? 0) + 3 }
            }
            let afterSteady = try await Self.generations(server, database)
            #expect(refreshedThrice, "not every grant refreshed three times: \(afterSteady)")
            // Exactly once: in strict rotation every second redemption of a refresh token is counted by the emulator,
            // as a retry (its successor unused) or a reuse (its successor used); with one node per grant there is none.
            let steady = try redemptions()
            #expect(steady.reused == 0 && steady.retried == 0, "a refresh token was redeemed twice: \(steady)")
            let holders = try await Self.value(server, database, "SELECT count(DISTINCT name) FROM nodes")
            #expect(holders == "3", "nodes announced: \(holders)")

            // Each tenant's daily sync (its slot passed today, never synced) runs once in the cluster.
            let synced = try await Self.eventually(timeout: .seconds(150), "every tenant synced daily") {
                let runs = try await Self.dailyRuns(server, database)
                return runs.count == tenants.count && runs.values.allSatisfy { $0 >= 1 }
            }
            let runsSeen = try await Self.dailyRuns(server, database)
            #expect(synced, "daily runs: \(runsSeen)")
            try await Task.sleep(for: .seconds(3))
            let daily = try await Self.dailyRuns(server, database)
            #expect(daily.count == tenants.count && daily.values.allSatisfy { $0 == 1 }, "daily runs per tenant: \(daily)")
            // The long-lived tokens' tenant syncs for real (three-second tokens are never handed out to a sync, so the
            // refreshing tenants' runs fail, once each).
            let failedDaily = try await Self.value(
                server, database, "SELECT count(*) FROM sync_runs WHERE trigger = 'daily' AND state <> 'succeeded' AND tenant_id = '\(tenants[2].id)'"
            )
            let runRows = try await Self.value(server, database, "SELECT tenant_id, state, error FROM sync_runs")
            #expect(failedDaily == "0", "daily runs that did not succeed: \(runRows)")

            // A manual sync asked on node-2 while node-3 syncs the tenant joins node-3's run (followed through its
            // row) and waits for its end, rather than failing or starting a second run.
            let followed = tenants[2]
            let slowPages = try emulator.addFault(FaultRule(tenant: followed.id, path: "/v1.0/", kind: .delay, delayMilliseconds: 400))
            let node3Socket = nodes[2].socket
            async let onNode3 = Self.ctl(socket: node3Socket, ["sync", "--tenant", followed.id, "--full", "--wait"])
            let running = try await Self.eventually(timeout: .seconds(30), "node-3's manual run going") {
                try await Self.value(server, database, "SELECT count(*) FROM sync_runs WHERE tenant_id = '\(followed.id)' AND trigger = 'manual' AND state = 'running'") == "1"
            }
            #expect(running, "node-3's manual run never started")
            let onNode2 = try await Self.ctl(socket: nodes[1].socket, ["sync", "--tenant", followed.id, "--wait"])
            let node3Result = try await onNode3
            try emulator.removeFault(id: try #require(slowPages.id))
            #expect(onNode2.status == 0, "node-2: \(onNode2.all)")
            #expect(node3Result.status == 0, "node-3: \(node3Result.all)")
            let manualRuns = try await Self.value(server, database, "SELECT count(*) FROM sync_runs WHERE tenant_id = '\(followed.id)' AND trigger = 'manual'")
            #expect(manualRuns == "1", "manual runs of the tenant: \(manualRuns)")
            #expect(nodes[1].process!.log.contains("Sync asked here joined the run of another node"), "node-2 did not follow node-3's run")

            // SIGKILL one node in the middle of its work: its leases lapse and the others take its grants over.
            nodes[0].process!.signal(SIGKILL)
            #expect(await nodes[0].process!.waitForExit(timeout: .seconds(10)) != nil)
            let atKill = try await Self.generations(server, database)
            let takenOver = try await Self.eventually(timeout: .seconds(Self.leaseSeconds + 10), "every grant refreshed after the kill") {
                let now = try await Self.generations(server, database)
                return refreshingGrants.allSatisfy { (now[$0] ?? 0) >= (atKill[$0] ?? 0) + 2 }
            }
            let afterTakeover = try await Self.generations(server, database)
            #expect(takenOver, "grants not taken over within the lease duration: \(afterTakeover) after \(atKill)")
            let afterKill = try redemptions()
            #expect(afterKill.reused == 0, "a replaced refresh token was redeemed: \(afterKill)")
            // A redemption answered while the node died is retried once by the next holder; nothing more.
            #expect(afterKill.retried <= nodes.count * refreshingGrants.count, "retried redemptions: \(afterKill)")
            let invalid = try await Self.value(server, database, "SELECT count(*) FROM grants WHERE state <> 'valid'")
            #expect(invalid == "0", "grants no longer valid after the kill: \(invalid)")
            let falseAlerts = try await Self.value(server, database, "SELECT count(*) FROM alerts")
            let raised = try await server.psql(database: database, "SELECT kind, subject FROM alerts")
            #expect(falseAlerts == "0", "alerts raised by the kill: \(raised)")

            // Alerts: revoke one tenant's refresh tokens; each token-invalid alert reaches the hook once in the cluster.
            let revoked = refreshing[1]
            _ = try emulator.revokeRefreshTokens(tenant: revoked.id)
            let revokedGrants = grantIDs.filter { $0.tenantID == revoked.id }.count
            let delivered = try await Self.eventually(timeout: .seconds(120), "the revoked tenant's alerts delivered") {
                let alerts = Int(try await Self.value(server, database, "SELECT count(*) FROM alerts")) ?? 0
                let pending = Int(try await Self.value(server, database, "SELECT count(*) FROM alert_deliveries WHERE state <> 'delivered'")) ?? -1
                return alerts >= 1 && pending == 0
            }
            let deliveries = try await server.psql(
                database: database,
                """
                SELECT d.alert_id, d.channel, d.state, d.attempts, a.created_at, d.delivered_at, d.last_error, clock_timestamp()
                FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id ORDER BY d.alert_id
                """
            )
            #expect(delivered, "deliveries: \(deliveries)")
            try await Task.sleep(for: .seconds(2))
            let alertCount = Int(try await Self.value(server, database, "SELECT count(*) FROM alerts")) ?? 0
            let hookLines = nodes.reduce(0) { sum, node in
                sum + ((try? String(contentsOfFile: node.alertsFile, encoding: .utf8)) ?? "").split(separator: "\n").filter { $0.contains("\"kind\"") }.count
            }
            #expect(alertCount >= 1 && alertCount <= revokedGrants, "alerts: \(alertCount) for \(revokedGrants) revoked grants")
            #expect(hookLines == alertCount, "\(hookLines) hook deliveries for \(alertCount) alerts")

            await Self.stop(nodes.dropFirst(), password: server.password)
        }
    }

    @Test("PostgreSQL stopped for 30 s under load: the nodes say the database does not answer, keep running, and resume with no false alert and no token lost")
    func databaseStoppedFor30SecondsUnderLoad() async throws {
        // A server of this test's own: stopping the shared one would fail every other test of the process.
        let server = try await PostgreSQLServer.dedicated()
        let database = try await server.createDatabase()
        let settings = TenantSettings(
            accessTokenLifetimeSeconds: 3, strictRefreshTokens: true, strictRefreshTokenRetry: true, throttlingEnabled: false
        )
        let configuration = EmulatorConfiguration(tenants: 2, usersPerTenant: 5, groupsPerTenant: 1, seed: 5, tenantSettings: settings)
        var emulatorLogger = Logger(label: "emulator")
        emulatorLogger.logLevel = .critical
        try await M365Emulator.withRunning(configuration: configuration, logger: emulatorLogger) { emulator, url in
            let tenants = emulator.tenants()
            let grantIDs = try await Self.seed(server: server, database: database, emulator: emulator, url: url, tenants: tenants).map(\.grantID)
            try await Self.recordDailyRunNow(server, database)
            let window = Self.nextMinute(after: Date().addingTimeInterval(12 * 3_600))
            let nodes = try await Self.startNodes(3, server: server, database: database, url: url, secret: emulator.configuration.clientSecret, dailyWindowStart: window)
            defer { Self.kill(nodes) }
            let start = try await Self.generations(server, database)
            let refreshing = try await Self.eventually(timeout: .seconds(30), "every grant refreshed twice") {
                let now = try await Self.generations(server, database)
                return grantIDs.allSatisfy { (now[$0] ?? 0) >= (start[$0] ?? 0) + 2 }
            }
            try #require(refreshing, "the cluster never refreshed every grant")

            let beforeStop = try await Self.generations(server, database)
            try await server.stop()
            let stoppedAt = ContinuousClock.now
            // Every node's status says so (a temporary failure: exit 75), within the status's read deadline.
            for node in nodes {
                var last: ChildProcess.Result?
                let says = try await Self.eventually(timeout: .seconds(20), "\(node.name)'s status says the database does not answer") {
                    last = try await Self.ctl(node, ["status"])
                    return last?.status == 75 && last?.all.contains("database not answering since") == true
                }
                #expect(says, "\(node.name): \(String(describing: last?.status)) \(last?.all ?? "")")
            }
            try await Task.sleep(until: stoppedAt.advanced(by: .seconds(30)))
            for node in nodes { #expect(node.process!.isRunning, "\(node.name) stopped while the database was down: \(node.process!.log.suffix(3000))") }
            try await server.start()

            let resumed = try await Self.eventually(timeout: .seconds(60), "every grant refreshed again") {
                let now = try await Self.generations(server, database)
                return grantIDs.allSatisfy { (now[$0] ?? 0) >= (beforeStop[$0] ?? 0) + 3 }
            }
            let afterRestart = try await Self.generations(server, database)
            #expect(resumed, "not every grant refreshed after the database came back: \(afterRestart), before the stop \(beforeStop)")
            let invalid = try await Self.value(server, database, "SELECT count(*) FROM grants WHERE state <> 'valid'")
            #expect(invalid == "0", "grants no longer valid after the outage: \(invalid)")
            let alerts = try await Self.value(server, database, "SELECT count(*) FROM alerts")
            #expect(alerts == "0", "alerts raised by the outage: \(alerts)")
            var reused = 0, retried = 0
            for tenant in tenants {
                let counters = try emulator.counters(tenant: tenant.id)
                reused += counters["token.refresh_token.reused"] ?? 0
                retried += counters["token.refresh_token.retried"] ?? 0
            }
            #expect(reused == 0, "a replaced refresh token was redeemed \(reused) times")
            // A token set Microsoft issued while the write failed is lost with the answer: the next refresh retries the
            // stored refresh token once. At most one per grant in flight when the database stopped.
            #expect(retried <= grantIDs.count, "\(retried) retried redemptions for \(grantIDs.count) grants")
            for node in nodes {
                var last: ChildProcess.Result?
                let healthy = try await Self.eventually(timeout: .seconds(20), "\(node.name)'s status answers again") {
                    last = try await Self.ctl(node, ["status"])
                    return last?.status == 0
                }
                #expect(healthy, "\(node.name): \(last?.all ?? "")")
            }
            await Self.stop(nodes, password: server.password)
        }
    }

    @Test("a node paused past its leases (SIGSTOP, then SIGCONT) cannot write over the node that took its grants over")
    func aPausedNodeCannotWriteOverTheNewHolder() async throws {
        let server = try await PostgreSQLServer.shared()
        let database = try await server.createDatabase()
        let settings = TenantSettings(
            accessTokenLifetimeSeconds: 3, strictRefreshTokens: true, strictRefreshTokenRetry: true, throttlingEnabled: false
        )
        let configuration = EmulatorConfiguration(tenants: 1, usersPerTenant: 5, groupsPerTenant: 1, seed: 6, tenantSettings: settings)
        var emulatorLogger = Logger(label: "emulator")
        emulatorLogger.logLevel = .critical
        try await M365Emulator.withRunning(configuration: configuration, logger: emulatorLogger) { emulator, url in
            let tenant = try #require(emulator.tenants().first)
            let grantIDs = try await Self.seed(server: server, database: database, emulator: emulator, url: url, tenants: [tenant]).map(\.grantID)
            // Slow token answers: a refresh is in flight most of the time, so the pause lands inside some.
            _ = try emulator.addFault(FaultRule(tenant: tenant.id, path: "/oauth2/v2.0/token", kind: .delay, delayMilliseconds: 1_500))
            // Only the refresher claims grants: a sync's token would be claimed under its own lease, and that sync
            // cancelled on wake when its lease is found lost.
            try await Self.recordDailyRunNow(server, database)
            let window = Self.nextMinute(after: Date().addingTimeInterval(12 * 3_600))
            // node-1 alone first, so that it claims the grants: with two nodes racing, one may win every claim.
            var nodes = try await Self.startNodes(1, server: server, database: database, url: url, secret: emulator.configuration.clientSecret, dailyWindowStart: window)
            defer { Self.kill(nodes) }
            // Pause node-1 while it holds leases with refreshes in flight, for longer than a lease lives. In flight is
            // judged once it is stopped: a lease claimed after its token was last stored (the refresh under it has not
            // stored its answer); a pause that caught none is undone and tried again.
            var pausedInFlight = false
            for _ in 0..<20 where !pausedInFlight {
                let holding = try await Self.eventually(timeout: .seconds(30), "node-1 holds token-refresh leases") {
                    let held = try await Self.value(
                        server, database, "SELECT count(*) FROM leases WHERE holder = 'node-1' AND kind = 'token-refresh' AND expires_at > now()"
                    )
                    return (Int(held) ?? 0) >= 1
                }
                guard holding else {
                    let leases = try await Self.value(server, database, "SELECT string_agg(kind || ' ' || key || ' ' || coalesce(holder, '-') || ' ' || epoch, ', ') FROM leases")
                    Issue.record("node-1 never held a lease with a refresh in flight: \(leases)\n\(nodes[0].process!.log.suffix(2000))")
                    return
                }
                nodes[0].process!.signal(SIGSTOP)
                let inFlight = try await Self.value(server, database, """
                    SELECT count(*) FROM leases l JOIN token_sets ts ON ts.grant_id::text = l.key
                    WHERE l.holder = 'node-1' AND l.kind = 'token-refresh' AND l.expires_at > now()
                        AND (ts.last_refresh_at IS NULL OR ts.last_refresh_at < l.expires_at - interval '\(Self.leaseSeconds) seconds')
                    """)
                pausedInFlight = (Int(inFlight) ?? 0) >= 1
                if !pausedInFlight { nodes[0].process!.signal(SIGCONT) }
            }
            try #require(pausedInFlight, "node-1 was never paused with a refresh in flight: \(nodes[0].process!.log.suffix(2000))")
            let pausedAt = ContinuousClock.now
            let atPause = try await Self.generations(server, database)
            // node-2 starts while node-1 is paused: the grants node-1 held come to it when their leases end.
            nodes += try await Self.startNodes(1, first: 2, server: server, database: database, url: url, secret: emulator.configuration.clientSecret, dailyWindowStart: window)
            let tookOver = try await Self.eventually(timeout: .seconds(Self.leaseSeconds + 30), "node-2 refreshed every grant") {
                let now = try await Self.generations(server, database)
                return grantIDs.allSatisfy { (now[$0] ?? 0) > (atPause[$0] ?? 0) }
            }
            let takenOver = try await Self.generations(server, database)
            #expect(tookOver, "node-2 did not take every grant over: \(takenOver) after \(atPause)")
            // Paused past its leases whatever the takeover took.
            try await Task.sleep(until: pausedAt.advanced(by: .seconds(Self.leaseSeconds + 1)))
            nodes[0].process!.signal(SIGCONT)

            // node-1 wakes with answers to refreshes whose leases another node holds now: none of them is stored.
            let abandoned = await nodes[0].process!.waitForLog("Token refresh abandoned: this node no longer holds the grant's lease", timeout: .seconds(15))
            #expect(abandoned, "node-1 never found its leases lost: \(nodes[0].process!.log.suffix(3000))")
            let settled = try await Self.eventually(timeout: .seconds(30), "every grant refreshed twice more") {
                let now = try await Self.generations(server, database)
                return grantIDs.allSatisfy { (now[$0] ?? 0) >= (takenOver[$0] ?? 0) + 2 }
            }
            #expect(settled, "the grants stopped refreshing after node-1 resumed")
            // A redemption node-1 had checked its lease for and then sent after the pause may reach Microsoft with a
            // token node-2 has replaced since (refused by the emulator's reuse detection; Microsoft would answer it):
            // its answer, either way, must change nothing, which the checks below prove.
            let counters = try emulator.counters(tenant: tenant.id)
            #expect(counters["token.refresh_token.reused"] ?? 0 <= grantIDs.count, "replaced refresh tokens redeemed: \(counters)")
            let invalid = try await Self.value(server, database, "SELECT count(*) FROM grants WHERE state <> 'valid'")
            #expect(invalid == "0", "grants no longer valid: \(invalid)")
            let failures = try await Self.value(server, database, "SELECT count(*) FROM token_sets WHERE consecutive_failures > 0")
            #expect(failures == "0", "a failure was recorded over the new holder's refresh")
            let alerts = try await Self.value(server, database, "SELECT count(*) FROM alerts")
            #expect(alerts == "0", "alerts raised: \(alerts)")
            await Self.stop(nodes, password: server.password)
        }
    }

    /// Starts `count` nodes on the database (node-`first`, the next, …) and waits until each is ready.
    static func startNodes(
        _ count: Int, first: Int = 1, server: PostgreSQLServer, database: String, url: URL, secret: String, dailyWindowStart: String
    ) async throws -> [Node] {
        var nodes = try (first..<first + count).map { Node(name: "node-\($0)", sandbox: try DaemonSandbox()) }
        for index in nodes.indices {
            try configure(nodes[index], server: server, database: database, url: url, secret: secret, dailyWindowStart: dailyWindowStart)
            nodes[index].process = try DaemonProcess(arguments: ["--config", nodes[index].sandbox.configPath])
        }
        for node in nodes {
            #expect(await node.process!.waitForLog("tenantsyncd started", timeout: .seconds(60)), "\(node.name) never started: \(node.process!.log)")
        }
        return nodes
    }

    /// SIGKILL for the nodes still running (a test that ended early).
    static func kill(_ nodes: [Node]) {
        for node in nodes where node.process?.isRunning == true { node.process?.signal(SIGKILL) }
    }

    /// SIGTERM for each node: each exits 0, and the database password is in no node's log.
    static func stop(_ nodes: some Sequence<Node>, password: String) async {
        for node in nodes {
            node.process!.signal(SIGTERM)
            #expect(await node.process!.waitForExit(timeout: .seconds(30)) == 0, "\(node.name): \(node.process!.log.suffix(3000))")
            #expect(!node.process!.log.contains(password), "the database password is in \(node.name)'s log")
        }
    }

    /// `eventually`, looking every quarter second: each look runs psql or tenantsyncctl, and a tighter loop would take
    /// the CPU the daemons under test need.
    static func eventually(timeout: Duration, _ what: String, _ condition: () async throws -> Bool) async throws -> Bool {
        try await TestSupport.eventually(timeout: timeout, what) {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(250))
            return false
        }
    }

    /// `tenantsyncctl` on a node's socket.
    static func ctl(_ node: Node, _ arguments: [String]) async throws -> ChildProcess.Result {
        try await ctl(socket: node.socket, arguments)
    }

    static func ctl(socket: String, _ arguments: [String]) async throws -> ChildProcess.Result {
        let ctl = DaemonProcess.binDirectory.appendingPathComponent("tenantsyncctl").path
        return try await ChildProcess.run(ctl, ["--socket", socket] + arguments, environment: ["PATH": "/usr/bin:/bin"])
    }


    /// Each node's configuration: the same database, key and emulator; its own name, state directory and hook file.
    /// The next whole minute after `date`, UTC, as `HH:MM`.
    static func nextMinute(after date: Date) -> String {
        let minutes = (Int(date.timeIntervalSince1970) / 60 + 1) % (24 * 60)
        return String(format: "%02d:%02d", minutes / 60, minutes % 60)
    }

    /// The emulator's address without a trailing slash, as the daemon's endpoints take it.
    static func base(_ url: URL) -> String {
        url.absoluteString.hasSuffix("/") ? String(url.absoluteString.dropLast()) : url.absoluteString
    }

    static func configure(_ node: Node, server: PostgreSQLServer, database: String, url: URL, secret: String, dailyWindowStart: String) throws {
        try node.sandbox.writeKey(key)
        let sandbox = node.sandbox
        try Data(secret.utf8).write(to: URL(fileURLWithPath: sandbox.path + "/client-secret"))
        guard FileManager.default.createFile(atPath: sandbox.path + "/db-password", contents: Data(server.password.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown)
        }
        try sandbox.writeConfig("""
            node_name = "\(node.name)"

            [database]
            url = "postgresql://\(server.user)@127.0.0.1:\(server.port)/\(database)"
            password_file = "\(sandbox.path)/db-password"
            tls = "disable"

            [cluster]
            lease_duration = "\(leaseSeconds)s"

            [sync]
            daily_window_start = "\(dailyWindowStart)"
            daily_window_length = "1m"

            [microsoft]
            authority = "\(base(url))"
            graph = "\(base(url))"
            outlook = "\(base(url))/outlook"
            client_secret_file = "\(sandbox.path)/client-secret"

            [[hooks]]
            name = "record"
            command = ["/bin/sh", "-c", "cat >> \(node.alertsFile); echo >> \(node.alertsFile)"]
            """)
    }

    /// Seeds the database through the PostgreSQL store: per tenant (scope all) one active account per service, each
    /// with delegated Graph grants consented one by one (each its own refresh-token chain).
    static func seed(
        server: PostgreSQLServer, database: String, emulator: M365Emulator, url: URL, tenants: [TenantInfo]
    ) async throws -> [(tenantID: String, grantID: Int64)] {
        let settings = PostgreSQLStoreSettings(
            host: server.host, port: server.port, user: server.user, database: database, password: Secret(server.password), tls: .disable,
            caFile: nil, applicationName: "seed"
        )
        let store = PostgreSQLStore(settings: settings, sealer: try SecretSealer(keyBytes: key), logger: Logger(label: "seed"))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        let base = Self.base(url)
        let identity = try IdentityPlatformClient(
            httpClient: http, endpoints: MicrosoftEndpoints(authority: base, graph: base, outlook: base + "/outlook"), logger: Logger(label: "seed")
        )
        let app = OAuthClientCredentials(clientID: emulator.configuration.clientID, clientSecret: Secret(emulator.configuration.clientSecret))
        // Graph as the daemon is configured to reach it (the emulator): its sync finds the grant by this resource.
        let resource = "\(base)/.default"
        let scopes = MicrosoftTokenGranter.delegatedScopes(resource)
        let result: Result<[(tenantID: String, grantID: Int64)], any Error> = await withTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            do {
                try await store.prepare()
                var grants: [(tenantID: String, grantID: Int64)] = []
                for tenant in tenants {
                    _ = try await store.upsertTenant(id: tenant.id, domain: tenant.domain, displayName: tenant.displayName)
                    try await store.setSyncScope(tenantID: tenant.id, scope: .all)
                    for service in services {
                        let account = try await store.createAccount(tenantID: tenant.id, service: service, appID: nil, licensingModel: nil)
                        for index in 0..<grantsPerAccount {
                            let grant = try await store.addGrant(accountID: account.id, name: "graph-\(index)", resource: resource, flow: .delegated)
                            let tokens = try await TokenCrashSafetyTests.consent(identity, http: http, tenant: tenant.id, app: app, scopes: scopes)
                            try await store.storeTokenSet(grantID: grant.id, tokens: tokens, nextRefreshAt: tokens.expiresAt.addingTimeInterval(-1))
                            grants.append((tenant.id, grant.id))
                        }
                        try await store.setAccountState(id: account.id, state: .active, provisioningStep: nil, provisioningError: nil)
                    }
                }
                try await store.close()
                return .success(grants)
            } catch {
                try? await store.close()
                return .failure(error)
            }
        }
        try? await http.shutdown()
        return try result.get()
    }

    /// One value read with psql, without its line end.
    static func value(_ server: PostgreSQLServer, _ database: String, _ sql: String) async throws -> String {
        try await server.psql(database: database, sql).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Each grant's token-set generation.
    static func generations(_ server: PostgreSQLServer, _ database: String) async throws -> [Int64: Int] {
        let rows = try await server.psql(database: database, "SELECT grant_id || ' ' || generation FROM token_sets")
        return Dictionary(
            rows.split(separator: "\n").compactMap { line -> (Int64, Int)? in
                let parts = line.split(separator: " ")
                guard parts.count == 2, let grant = Int64(parts[0]), let generation = Int(parts[1]) else { return nil }
                return (grant, generation)
            },
            uniquingKeysWith: { $1 }
        )
    }

    /// A finished daily run for every tenant, started now: no daily sync is due for twelve hours, whatever the window.
    ///
    /// A tenant never synced is due at today's slot once it has passed (`DailySyncSchedule.nextDue`), so a window set
    /// hours ahead keeps it idle only before noon.
    static func recordDailyRunNow(_ server: PostgreSQLServer, _ database: String) async throws {
        _ = try await server.psql(database: database, """
            INSERT INTO sync_runs (tenant_id, trigger, mode, state, started_at, finished_at)
            SELECT id, 'daily', 'full', 'succeeded', now(), now() FROM tenants
            """)
    }

    /// Daily sync runs per tenant.
    static func dailyRuns(_ server: PostgreSQLServer, _ database: String) async throws -> [String: Int] {
        let rows = try await server.psql(database: database, "SELECT tenant_id || ' ' || count(*) FROM sync_runs WHERE trigger = 'daily' GROUP BY tenant_id")
        return Dictionary(
            rows.split(separator: "\n").compactMap { line -> (String, Int)? in
                let parts = line.split(separator: " ")
                guard parts.count == 2, let count = Int(parts[1]) else { return nil }
                return (String(parts[0]), count)
            },
            uniquingKeysWith: { $1 }
        )
    }
}
