import Foundation
import Logging
import Systemd
import TenantSyncConfig
import TenantSyncDaemon
import Testing

/// Issue 17: the store is opened once, so a reload that changes `[database]`, `[cluster]` or the node's name
/// says they need a restart and keeps the running values in force.
@Suite("Reload: database, cluster and node name need a restart")
struct DatabaseReloadTests {
    @Test("a reload that changes url, tls, lease_duration and node_name names them as needing a restart and keeps the running ones")
    func databaseKeysNeedARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dbreload-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/tenantsyncd.toml"
        func write(host: String, tls: String, lease: String, node: String, margin: String) throws {
            let text = """
                [daemon]
                node_name = "\(node)"
                [database]
                url = "postgresql://ts@\(host):5432/ts"
                tls = "\(tls)"
                [cluster]
                lease_duration = "\(lease)"
                [tokens]
                refresh_margin = "\(margin)"
                """
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        }
        try write(host: "127.0.0.1", tls: "disable", lease: "30s", node: "node-a", margin: "10m")
        let loader = ConfigurationLoader(environment: [:])
        let running = try loader.load(path: path)
        let settings = RuntimeSettings(running)
        let reloader = ConfigurationReloader(
            path: path, loader: loader, settings: settings, notifier: SystemdNotifier(environment: [:]), logger: Logger(label: "test")
        )

        try write(host: "db.example.net", tls: "verify-full", lease: "1m", node: "node-b", margin: "20m")
        let outcome = try await reloader.reload()
        #expect(outcome.applied == ["tokens.refresh_margin"])
        #expect(Set(outcome.needRestart) == ["database.url", "database.tls", "cluster.lease_duration", "daemon.node_name"], "\(outcome.needRestart)")
        let now = settings.configuration
        #expect(now.tokens.refreshMargin == .seconds(1_200))
        #expect(now.database == running.database, "the running database settings must stay in force until a restart")
        #expect(now.cluster == running.cluster)
        #expect(now.daemon.nodeName == "node-a")
    }
}
