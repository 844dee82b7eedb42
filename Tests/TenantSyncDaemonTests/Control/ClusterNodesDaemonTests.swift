import ControlPlane
import Credentials
import Foundation
import Logging
import TenantSyncCore
import TenantSyncPostgreSQL
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Issue 17: `ListNodes`, `tenantsyncctl nodes` and the cluster line of `status`, from the real daemon on the private
/// PostgreSQL server, with other nodes announced through a store of the test's own.
@Suite("Cluster nodes through the control socket of the real daemon", .serialized)
struct ClusterNodesDaemonTests {
    /// The daemon's `[daemon] node_name`.
    static let answering = "pg-answering"

    @Test("on PostgreSQL, ListNodes reports every announced node with its version and leases by kind, alive within the configured lease duration or silent, the answering one marked; status counts them")
    func nodesOnPostgreSQL() async throws {
        let server = try await PostgreSQLServer.shared()
        let key = PostgreSQLDaemonTests.randomKey()
        let database = try await PostgreSQLDaemonTests.databasePrepared(on: server, key: key)
        let settings = PostgreSQLStoreSettings(
            host: server.host, port: server.port, user: server.user, database: database, password: Secret(server.password), tls: .disable,
            caFile: nil, applicationName: "other-nodes"
        )
        let others = PostgreSQLStore(settings: settings, sealer: try SecretSealer(keyBytes: key), logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await others.run() }
            defer { group.cancelAll() }
            try await others.prepare()
            try await Self.checkNodes(server: server, database: database, key: key, others: others)
            try await others.close()
        }
    }

    static func checkNodes(server: PostgreSQLServer, database: String, key: [UInt8], others: PostgreSQLStore) async throws {
        let sandbox = try DaemonSandbox()
        try sandbox.writeKey(key)
        let url = "postgresql://\(server.user)@127.0.0.1:\(server.port)/\(database)"
        // 120 s, not the default 30 s: a node last heard from 40 s ago is alive only if the configured duration is used.
        try sandbox.writeConfig(
            "node_name = \"\(answering)\"\n"
                + PostgreSQLDaemonTests.databaseConfig(sandbox, url: url, password: server.password, tls: "tls = \"disable\"")
                + "[cluster]\nlease_duration = \"120s\"\n"
        )
        let daemon = try DaemonProcess(arguments: ["--config", sandbox.configPath])
        let socket = sandbox.path + "/control"
        try #require(await daemon.waitUntilServing(socket: socket, timeout: .seconds(60)), "never started: \(daemon.log)")
        // The daemon's cluster service announces it before the control socket serves; where none does yet, the test
        // writes the row it would.
        if try await !others.nodes().contains(where: { $0.name == answering }) {
            try await others.announceNode(name: answering, version: TenantSyncVersion.current, startedAt: Date())
        }

        // alpha holds three token refreshes and a sync; beta holds nothing and was last heard from 40 s ago; gamma is
        // dead: silent for ten minutes, its delivery lease expired.
        let started = Date(timeIntervalSince1970: 1_796_000_000)
        try await others.announceNode(name: "node-alpha", version: "9.9.1", startedAt: started)
        try await others.announceNode(name: "node-beta", version: "9.9.1", startedAt: started)
        try await others.announceNode(name: "node-gamma", version: "9.9.0", startedAt: started)
        #expect(try await others.claim(kind: .tokenRefresh, keys: ["11", "12", "13"], node: "node-alpha", limit: 3, duration: .seconds(600)).count == 3)
        #expect(try await others.claim(kind: .sync, keys: ["tenant-1"], node: "node-alpha", limit: 1, duration: .seconds(600)).count == 1)
        #expect(try await others.claim(kind: .delivery, keys: ["7:smtp"], node: "node-gamma", limit: 1, duration: .seconds(600)).count == 1)
        _ = try await server.psql(database: database, """
            UPDATE nodes SET last_heartbeat_at = clock_timestamp() - interval '40 seconds' WHERE name = 'node-beta';
            UPDATE nodes SET last_heartbeat_at = clock_timestamp() - interval '10 minutes' WHERE name = 'node-gamma';
            UPDATE leases SET expires_at = clock_timestamp() - interval '9 minutes' WHERE holder = 'node-gamma';
            """)

        let nodes = try await ControlClient.withConnection(to: socket) { try await $0.listNodes() }
        #expect(nodes.map(\.name) == ["node-alpha", "node-beta", "node-gamma", answering], "\(nodes)")
        let byName = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0) })
        let alpha = try #require(byName["node-alpha"])
        #expect(alpha.alive && !alpha.answering && alpha.version == "9.9.1" && alpha.startedAt == started, "\(alpha)")
        #expect(alpha.leases == [.init(kind: "token-refresh", count: 3), .init(kind: "sync", count: 1)], "\(alpha.leases)")
        let beta = try #require(byName["node-beta"])
        #expect(beta.alive && beta.leases.isEmpty && (40..<100).contains(beta.silentSeconds), "alive within the 120 s lease duration: \(beta)")
        let gamma = try #require(byName["node-gamma"])
        #expect(!gamma.alive && !gamma.answering && gamma.version == "9.9.0", "\(gamma)")
        #expect((600..<700).contains(gamma.silentSeconds) && gamma.leases.isEmpty, "silent ten minutes, its expired lease not counted: \(gamma)")
        let own = try #require(byName[answering])
        #expect(own.answering && own.alive && own.version == TenantSyncVersion.current, "\(own)")
        #expect(nodes.filter(\.answering).count == 1)

        let table = try await Self.ctl(socket, ["nodes"])
        #expect(table.status == 0, "\(table.all)")
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("NODE") == true && lines.first?.hasSuffix("LEASES") == true, "\(table.stdout)")
        #expect(lines.contains { $0.hasPrefix("node-alpha ") && $0.contains(" alive ") && $0.hasSuffix("token-refresh 3, sync 1") }, "\(table.stdout)")
        #expect(lines.contains { $0.hasPrefix("node-gamma ") && $0.contains("10m ago") && $0.contains("silent 10m") && $0.hasSuffix("-") }, "\(table.stdout)")
        #expect(lines.contains { $0.hasPrefix("\(answering) * ") && $0.contains(" alive ") }, "\(table.stdout)")
        #expect(lines.last == "* answered this call", "\(table.stdout)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(try await Self.ctl(socket, ["--json", "nodes"]).stdout.utf8)) as? [String: Any])
        let listed = try #require(json["nodes"] as? [[String: Any]], "\(json)")
        #expect(listed.map { $0["name"] as? String } == nodes.map(\.name) && listed.map { $0["alive"] as? Bool } == [true, true, false, true], "\(listed)")
        #expect((listed.first?["leases"] as? [[String: Any]])?.first?["kind"] as? String == "token-refresh", "\(listed)")

        let status = try await Self.ctl(socket, ["status"])
        #expect(status.status == 0 && status.stdout.contains("Nodes: 4 (3 alive)"), "\(status.all)")
        let statusJSON = try #require(try JSONSerialization.jsonObject(with: Data(try await Self.ctl(socket, ["--json", "status"]).stdout.utf8)) as? [String: Any])
        #expect(statusJSON["cluster"] as? [String: Int] == ["nodes": 4, "alive": 3], "\(statusJSON)")

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0, "log: \(daemon.log)")
    }

    /// Runs `tenantsyncctl --socket SOCKET ARGS` with no terminal.
    static func ctl(_ socket: String, _ arguments: [String]) async throws -> ChildProcess.Result {
        let executable = DaemonProcess.binDirectory.appendingPathComponent("tenantsyncctl").path
        return try await ChildProcess.run(executable, ["--socket", socket] + arguments, environment: ["PATH": "/usr/bin:/bin"])
    }
}
