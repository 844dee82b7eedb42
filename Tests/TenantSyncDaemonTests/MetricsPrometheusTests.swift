import AsyncHTTPClient
import ControlPlane
import Foundation
import M365Emulator
import NIOCore
import Testing
import TenantSyncConfig
import TestSupport

/// Issue 18: the daemon's metrics as an operator's Prometheus sees them. The real daemon against the
/// emulator, a real `prometheus` scraping it every second and evaluating the shipped rule file, read back
/// through Prometheus' HTTP query API; `promtool` checks a real scrape. Nothing in between is replaced.
@Suite("Metrics through a real Prometheus", .serialized)
struct MetricsPrometheusTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let shippedRules = root.appendingPathComponent("contrib/prometheus/tenantsync.rules.yml").path
    static let dashboard = root.appendingPathComponent("contrib/grafana/tenantsync-dashboard.json").path

    /// The address the daemon's log says the endpoint bound (`127.0.0.1:0` asks for a free port).
    static func metricsAddress(_ daemon: DaemonProcess, after previous: String? = nil) async throws -> String {
        var address: String?
        let found = try await eventually(timeout: .seconds(30), "the metrics endpoint listens") {
            address = daemon.log.split(separator: "\n").filter { $0.contains("Metrics endpoint listening") }.last
                .flatMap { line in line.split(separator: " ").first { $0.hasPrefix("metrics.listen=") } }
                .map { String($0.dropFirst("metrics.listen=".count)) }
            return address != nil && address != previous
        }
        try #require(found, "no 'Metrics endpoint listening' line: \(daemon.log.suffix(2000))")
        return try #require(address)
    }

    /// A call of the emulator's admin API (`PATCH` or `POST` with a JSON body).
    static func adminRequest(_ h: ProvisioningHarness, patch: Bool, _ path: String, json: String) async throws -> UInt {
        var request = HTTPClientRequest(url: h.baseURL + path)
        request.method = patch ? .PATCH : .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1024 * 1024)
        return response.status.code
    }

    /// Waits until `expression` has exactly the values `expected` (by the label named `key`), as Prometheus answers it.
    static func expectValues(
        _ prometheus: PrometheusServer, _ expression: String, _ expected: [String: Double], by key: String, timeout: Duration = .seconds(60)
    ) async throws {
        var last: [PrometheusServer.Sample] = []
        let reached = try await eventually(timeout: timeout, expression) {
            last = try await prometheus.query(expression)
            return Dictionary(last.map { ($0.labels[key] ?? "", $0.value) }, uniquingKeysWith: { a, _ in a }) == expected
        }
        #expect(reached, "\(expression): expected \(expected) by \(key), Prometheus answers \(last)")
    }

    /// Waits until `expression` answers one sample with a value at least `minimum`.
    static func expectAtLeast(_ prometheus: PrometheusServer, _ expression: String, _ minimum: Double) async throws {
        var last: [PrometheusServer.Sample] = []
        let reached = try await eventually(timeout: .seconds(60), expression) {
            last = try await prometheus.query(expression)
            return last.count == 1 && last[0].value >= minimum
        }
        #expect(reached, "\(expression): expected one sample >= \(minimum), Prometheus answers \(last)")
    }

    @Test("a provisioned account's series reach Prometheus with the store's values, and a grant broken at Microsoft fires the shipped rule")
    func seriesAndTheInvalidGrantRuleThroughPrometheus() async throws {
        // 40-second tokens refreshed 30 s before expiry: the daemon refreshes about 10 s after each consent.
        let config = "[tokens]\nrefresh_margin = \"30s\"\n\n[metrics]\nlisten = \"127.0.0.1:0\"\n"
        try await ProvisioningHarness.with(extraConfig: config) { h in
            let address = try await Self.metricsAddress(h.daemon)
            let tenant = "tenant=\"\(h.tenant.domain)\""
            #expect(try await Self.adminRequest(h, patch: true, "/_emulator/tenants/\(h.tenant.id)/settings", json: #"{"accessTokenLifetimeSeconds": 40}"#) == 200)
            let provisioned = try await h.provision("exchange-online", ["--scope", "all"], approvals: [true, true])
            try #require(provisioned.status == 0, "\(provisioned.all)")

            let prometheus = try PrometheusServer(target: address, ruleFiles: [Self.shippedRules])
            defer { prometheus.stop() }
            try #require(try await prometheus.waitUntilReady(), "prometheus never became ready: \(prometheus.log)")

            // The healthy account, as the store holds it.
            try await Self.expectValues(prometheus, "up{job=\"tenantsync\"}", ["tenantsync": 1], by: "job")
            try await Self.expectValues(prometheus, "tenantsync_build_info", ["0.1.0": 1], by: "version")
            // No [daemon] node_name in the harness's configuration: the node is named after the host.
            try await Self.expectValues(prometheus, "tenantsync_node_info", [DaemonConfiguration.systemHostName(): 1], by: "node")
            try await Self.expectValues(prometheus, "tenantsync_grant_valid{\(tenant),service=\"exchange-online\"}", ["ews": 1, "graph": 1], by: "grant")
            try await Self.expectValues(
                prometheus, "tenantsync_account_state{\(tenant),service=\"exchange-online\"}",
                ["active": 1], by: "state"
            )
            try await Self.expectValues(prometheus, "tenantsync_directory_users{\(tenant)}", [h.tenant.domain: 30], by: "tenant")
            try await Self.expectValues(prometheus, "tenantsync_sync_held{\(tenant)}", [h.tenant.domain: 0], by: "tenant")
            try await Self.expectValues(prometheus, "tenantsync_sync_scheduled{\(tenant)}", [h.tenant.domain: 1], by: "tenant")
            try await Self.expectAtLeast(prometheus, "sum(tenantsync_sync_runs_total{trigger=\"provision\",result=\"succeeded\"})", 1)
            try await Self.expectAtLeast(prometheus, "tenantsync_graph_requests_total{status_class=\"2xx\"}", 1)
            try await Self.expectAtLeast(prometheus, "tenantsync_graph_resource_units_total", 1)
            try await Self.expectAtLeast(prometheus, "tenantsync_alerts_total{kind=\"account-protected\",severity=\"info\"}", 1)
            try await Self.expectAtLeast(prometheus, "tenantsync_alert_deliveries_total{channel=\"hook:record\",result=\"delivered\"}", 1)
            // The first scheduled refresh, about 10 s after the consent.
            try await Self.expectAtLeast(prometheus, "tenantsync_token_refreshes_total{result=\"ok\"}", 1)
            try await Self.expectAtLeast(prometheus, "tenantsync_token_refresh_duration_seconds_count", 1)
            try await Self.expectValues(prometheus, "tenantsync_token_refresh_margin_seconds", ["tenantsync": 30], by: "job")
            #expect(try await prometheus.alerts().filter { $0["alertname"] == "TenantSyncGrantInvalid" }.isEmpty)

            // Microsoft revokes the tenant's refresh tokens (the emulator's admin API): the next refreshes answer AADSTS70008.
            #expect(try await Self.adminRequest(h, patch: false, "/_emulator/tenants/\(h.tenant.id)/revoke-refresh-tokens", json: #"{"code": 70008}"#) == 200)
            try await Self.expectValues(
                prometheus, "tenantsync_grant_valid{\(tenant),service=\"exchange-online\"}", ["ews": 0, "graph": 0], by: "grant",
                timeout: .seconds(120)
            )
            var firing: [[String: String]] = []
            let fired = try await eventually(timeout: .seconds(60), "the shipped TenantSyncGrantInvalid rule fires") {
                firing = try await prometheus.alerts().filter { $0["alertname"] == "TenantSyncGrantInvalid" && $0["state"] == "firing" }
                return firing.count == 2
            }
            #expect(fired, "firing: \(firing); rules log: \(prometheus.log.suffix(1000))")
            #expect(Set(firing.compactMap { $0["grant"] }) == ["ews", "graph"])
            #expect(firing.allSatisfy { $0["tenant"] == h.tenant.domain && $0["service"] == "exchange-online" && $0["severity"] == "critical" })
            try await Self.expectValues(
                prometheus, "tenantsync_account_state{\(tenant),service=\"exchange-online\"}",
                ["token-invalid": 1], by: "state"
            )
            try await Self.expectAtLeast(prometheus, "tenantsync_token_refreshes_total{result=\"permanent\"}", 2)
            try await Self.expectAtLeast(prometheus, "tenantsync_incidents_open", 2)
            try await Self.expectAtLeast(prometheus, "tenantsync_alerts_total{kind=\"token-invalid\",severity=\"critical\"}", 2)
            // An invalid grant is no longer refreshed: its expiry stands still and Prometheus holds the store's value.
            let account = try #require(try await h.account("exchange-online"))
            let graph = try #require(try await h.detail(account.id).grants.first { $0.name == "graph" })
            let expiry = try #require(graph.token?.expiresAt).timeIntervalSince1970
            var seen: [PrometheusServer.Sample] = []
            let matches = try await eventually(timeout: .seconds(30), "the graph grant's expiry") {
                seen = try await prometheus.query("tenantsync_token_expiration_timestamp_seconds{\(tenant),grant=\"graph\"}")
                // The control socket gives whole seconds; the metric keeps the store's milliseconds.
                return seen.count == 1 && seen[0].value.rounded(.down) == expiry
            }
            #expect(matches, "store: \(expiry), Prometheus: \(seen)")
            #expect(try await prometheus.query("tenantsync_token_next_refresh_timestamp_seconds{\(tenant)}").isEmpty, "invalid grants have no next refresh")

            // What the shipped rules and the dashboard name is what Prometheus stored, but for the series this run
            // cannot produce (no Teams Chat secret, nothing left pending in the outbox).
            let stored = try await prometheus.metricNames()
            var named = Set<String>()
            for file in [Self.shippedRules, Self.dashboard] {
                let text = try String(contentsOfFile: file, encoding: .utf8)
                let pattern = try NSRegularExpression(pattern: "tenantsync_[a-z_]+")
                named.formUnion(pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
                    Range($0.range, in: text).map { String(text[$0]) }
                })
            }
            let absentHere: Set = ["tenantsync_client_secret_expiration_timestamp_seconds", "tenantsync_alert_oldest_pending_timestamp_seconds"]
            #expect(named.subtracting(absentHere).subtracting(stored).isEmpty, "not in Prometheus: \(named.subtracting(absentHere).subtracting(stored).sorted())")

            // promtool check metrics on the daemon's own answer.
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://\(address)/metrics"), timeout: .seconds(10))
            let scrape = String(buffer: try await response.body.collect(upTo: 16 * 1024 * 1024))
            let file = h.directory + "/scrape.txt"
            try Data(scrape.utf8).write(to: URL(fileURLWithPath: file))
            let check = try await ChildProcess.run("/usr/bin/promtool", ["check", "metrics"], stdin: file)
            #expect(check.status == 0 && check.all.isEmpty, "promtool check metrics: exit \(check.status)\n\(check.all)")
            // No secret and no id of a user, group, run or alert in what Prometheus stores.
            #expect(!scrape.contains(EmulatorDefaults.clientSecret))
            #expect(!scrape.contains("user_id") && !scrape.contains("run=") && !scrape.contains("alert_id"))
        }
    }

    @Test("a reload that changes [metrics] listen moves the endpoint and reports the key as applied; removing it closes the endpoint")
    func reloadRebindsTheEndpoint() async throws {
        try await ProvisioningHarness.with(extraConfig: "[metrics]\nlisten = \"127.0.0.1:0\"\n") { h in
            let first = try await Self.metricsAddress(h.daemon)
            let firstPort = try #require(Int(first.split(separator: ":").last ?? ""))
            #expect(acceptsConnections(port: firstPort))
            let next = try freeLoopbackPort()
            let config = try String(contentsOfFile: h.configPath, encoding: .utf8)
            try Data(config.replacingOccurrences(of: "listen = \"127.0.0.1:0\"", with: "listen = \"127.0.0.1:\(next)\"").utf8)
                .write(to: URL(fileURLWithPath: h.configPath))
            let reload = try await h.ctl(["reload"])
            #expect(reload.status == 0 && reload.stdout.contains("metrics.listen"), "\(reload.all)")
            let second = try await Self.metricsAddress(h.daemon, after: first)
            #expect(second == "127.0.0.1:\(next)")
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://\(second)/metrics"), timeout: .seconds(10))
            #expect(response.status == .ok)
            _ = try await response.body.collect(upTo: 16 * 1024 * 1024)
            #expect(!acceptsConnections(port: firstPort), "the old port still accepts connections")

            try Data(config.replacingOccurrences(of: "listen = \"127.0.0.1:0\"", with: "").utf8).write(to: URL(fileURLWithPath: h.configPath))
            #expect(try await h.ctl(["reload"]).status == 0)
            let closed = try await eventually("the endpoint closes") { !acceptsConnections(port: next) }
            #expect(closed, "the endpoint still listens after [metrics] listen was removed")
        }
    }
}
