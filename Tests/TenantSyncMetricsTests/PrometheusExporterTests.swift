import Foundation
import Logging
import NIOCore
import TenantSyncCore
@testable import TenantSyncMetrics
import Testing
import TestSupport

@Suite("Prometheus exposition")
struct PrometheusExporterTests {
    func exporter(_ source: StateFixture, maximumStateAge: Duration = .seconds(3_600), channels: [String] = ["journal", "smtp"]) -> PrometheusExporter {
        PrometheusExporter(
            version: "9.8.7", node: "node-a.dc1", source: source, channels: { channels }, refreshMargin: { .seconds(600) },
            maximumStateAge: maximumStateAge, logger: Logger(label: "test")
        )
    }

    /// The value of the one sample `name{labels}` (labels in the exposition's order), or nil when absent.
    func value(_ exposition: String, _ series: String) -> Double? {
        for line in exposition.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    /// Every event once, so every counter and histogram has a sample.
    func reportOneOfEach(_ exporter: PrometheusExporter) {
        exporter.tokenRefreshFinished(result: .ok, duration: .milliseconds(120))
        exporter.tokenRefreshFinished(result: .permanent, duration: .milliseconds(80))
        exporter.syncRunFinished(trigger: .daily, mode: .delta, result: .succeeded, duration: .seconds(4))
        exporter.syncRunFinished(trigger: .manual, mode: .full, result: .held, duration: .seconds(40))
        exporter.graphRequestFinished(status: 200, resourceUnits: 2, duration: .milliseconds(30))
        exporter.graphRequestFinished(status: 429, resourceUnits: 1, duration: .milliseconds(5))
        exporter.graphRequestFinished(status: nil, resourceUnits: 0, duration: .seconds(30))
        exporter.alertDeliveryFinished(channel: "smtp", delivered: false)
        exporter.alertDeliveryFinished(channel: "journal", delivered: true)
    }

    @Test("every metric the shipped rules and dashboard name is exported, and promtool check metrics accepts the exposition")
    func shippedQueriesNameOnlyExportedMetrics() async throws {
        let source = StateFixture(alerts: [.init(id: 1, kind: "token-invalid", severity: "critical")])
        let exporter = exporter(source)
        reportOneOfEach(exporter)
        let exposition = await exporter.exposition().text
        let exported = ShippedFiles.sampleNames(in: exposition)
        for file in [ShippedFiles.rules, ShippedFiles.dashboard] {
            let named = try ShippedFiles.metricNames(in: file)
            #expect(!named.isEmpty, "\(file) names no metric")
            let missing = named.subtracting(exported)
            #expect(missing.isEmpty, "\(file) names metrics the daemon does not export: \(missing.sorted())")
        }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("scrape.txt").path
        try Data(exposition.utf8).write(to: URL(fileURLWithPath: file))
        let check = try await ChildProcess.run(ShippedFiles.promtool, ["check", "metrics"], stdin: file)
        #expect(check.status == 0 && check.all.isEmpty, "promtool check metrics: exit \(check.status)\n\(check.all)\n\(exposition)")
    }

    @Test("every metric family exported has a row in README's Monitoring table, and every row is exported")
    func readmeDocumentsEveryExportedFamily() async throws {
        let exporter = exporter(StateFixture(alerts: [.init(id: 1, kind: "token-invalid", severity: "critical")]))
        reportOneOfEach(exporter)
        let exposition = await exporter.exposition().text
        let exported = Set(exposition.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) })
        let readme = try String(contentsOfFile: ShippedFiles.root.appendingPathComponent("README.md").path, encoding: .utf8)
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false)
        let header = try #require(lines.firstIndex(of: "| metric | type | labels | meaning |"), "README has no metrics table")
        let documented = Set(lines[(header + 2)...].prefix { $0.hasPrefix("|") }.compactMap { row -> String? in
            row.split(separator: "`").dropFirst().first.map(String.init)
        })
        #expect(exported.subtracting(documented).isEmpty, "exported but not in README's Monitoring table: \(exported.subtracting(documented).sorted())")
        #expect(documented.subtracting(exported).isEmpty, "in README's Monitoring table but not exported: \(documented.subtracting(exported).sorted())")
    }

    @Test("state gauges carry the store's values with tenant, service and grant labels, and no ids")
    func stateGaugesCarryTheStoresValues() async throws {
        let exposition = await exporter(StateFixture()).exposition().text
        let expiry = StateFixture.expiry.timeIntervalSince1970
        #expect(value(exposition, #"tenantsync_build_info{version="9.8.7"}"#) == 1)
        #expect(value(exposition, #"tenantsync_node_info{node="node-a.dc1"}"#) == 1)
        #expect(value(exposition, #"tenantsync_grant_valid{tenant="contoso.com",service="exchange-online",grant="ews"}"#) == 1)
        #expect(value(exposition, #"tenantsync_grant_valid{tenant="contoso.com",service="exchange-online",grant="graph"}"#) == 0)
        #expect(value(exposition, #"tenantsync_token_expiration_timestamp_seconds{tenant="contoso.com",service="exchange-online",grant="ews"}"#) == expiry)
        #expect(value(exposition, #"tenantsync_token_next_refresh_timestamp_seconds{tenant="contoso.com",service="exchange-online",grant="ews"}"#) == expiry - 600)
        #expect(value(exposition, #"tenantsync_token_last_refresh_timestamp_seconds{tenant="contoso.com",service="exchange-online",grant="ews"}"#) == expiry - 3_600)
        // An invalid grant is not refreshed: it has no next refresh. A pending one (consent open) has no series at all.
        #expect(value(exposition, #"tenantsync_token_next_refresh_timestamp_seconds{tenant="contoso.com",service="exchange-online",grant="graph"}"#) == nil)
        #expect(!exposition.contains(#"tenant="fabrikam.com",service="onedrive",grant="graph""#))
        // Only the current state has a series.
        for state in ["provisioning", "active", "token-invalid"] {
            #expect(value(exposition, #"tenantsync_account_state{tenant="contoso.com",service="exchange-online",state="\#(state)"}"#) == (state == "token-invalid" ? 1 : nil))
        }
        #expect(value(exposition, #"tenantsync_client_secret_expiration_timestamp_seconds{tenant="contoso.com",service="teams-chat"}"#) == expiry + 86_400)
        #expect(value(exposition, "tenantsync_incidents_open") == 2)
        #expect(value(exposition, "tenantsync_token_refresh_margin_seconds") == 600)
        #expect(value(exposition, #"tenantsync_sync_last_attempt_timestamp_seconds{tenant="contoso.com"}"#) == expiry - 100)
        #expect(value(exposition, #"tenantsync_sync_last_success_timestamp_seconds{tenant="contoso.com"}"#) == expiry - 50)
        #expect(value(exposition, #"tenantsync_sync_last_success_timestamp_seconds{tenant="fabrikam.com"}"#) == nil)
        #expect(value(exposition, #"tenantsync_directory_users{tenant="contoso.com"}"#) == 30)
        #expect(value(exposition, #"tenantsync_sync_held{tenant="fabrikam.com"}"#) == 1)
        #expect(value(exposition, #"tenantsync_sync_held{tenant="contoso.com"}"#) == 0)
        #expect(value(exposition, #"tenantsync_sync_scheduled{tenant="contoso.com"}"#) == 1)
        // A configured channel with nothing waiting reports 0; the backed-up one its count and oldest alert.
        #expect(value(exposition, #"tenantsync_alert_outbox_pending{channel="journal"}"#) == 0)
        #expect(value(exposition, #"tenantsync_alert_outbox_pending{channel="smtp"}"#) == 3)
        #expect(value(exposition, #"tenantsync_alert_oldest_pending_timestamp_seconds{channel="smtp"}"#) == expiry - 1_000)
        #expect(value(exposition, #"tenantsync_alert_oldest_pending_timestamp_seconds{channel="journal"}"#) == nil)
        // Bounded labels only.
        let labels = Set(exposition.split(separator: "\n").filter { !$0.hasPrefix("#") }.flatMap { line -> [String] in
            guard let open = line.firstIndex(of: "{"), let close = line.firstIndex(of: "}") else { return [] }
            return line[line.index(after: open)..<close].split(separator: ",").compactMap { $0.split(separator: "=").first.map(String.init) }
        })
        #expect(labels.isSubset(of: ["version", "node", "tenant", "service", "grant", "state", "channel", "result", "trigger", "mode", "status_class", "kind", "severity", "le"]), "\(labels)")
    }

    @Test("events count by their bounded labels; Graph 429s count as throttled and resource units add up")
    func eventsCountByLabel() async throws {
        let exporter = exporter(StateFixture())
        reportOneOfEach(exporter)
        exporter.graphRequestFinished(status: 503, resourceUnits: 1, duration: .milliseconds(10))
        let exposition = await exporter.exposition().text
        #expect(value(exposition, #"tenantsync_token_refreshes_total{result="ok"}"#) == 1)
        #expect(value(exposition, #"tenantsync_token_refreshes_total{result="permanent"}"#) == 1)
        #expect(value(exposition, #"tenantsync_token_refreshes_total{result="transient"}"#) == 0)
        #expect(value(exposition, "tenantsync_token_refresh_duration_seconds_count") == 2)
        #expect(value(exposition, #"tenantsync_sync_runs_total{trigger="daily",mode="delta",result="succeeded"}"#) == 1)
        #expect(value(exposition, #"tenantsync_sync_runs_total{trigger="manual",mode="full",result="held"}"#) == 1)
        #expect(value(exposition, #"tenantsync_sync_runs_total{trigger="provision",mode="full",result="failed"}"#) == 0)
        #expect(value(exposition, #"tenantsync_sync_duration_seconds_sum{trigger="manual",mode="full"}"#) == 40)
        #expect(value(exposition, #"tenantsync_sync_duration_seconds_bucket{trigger="daily",mode="delta",le="5.0"}"#) == 1)
        #expect(value(exposition, #"tenantsync_graph_requests_total{status_class="2xx"}"#) == 1)
        #expect(value(exposition, #"tenantsync_graph_requests_total{status_class="4xx"}"#) == 1)
        #expect(value(exposition, #"tenantsync_graph_requests_total{status_class="5xx"}"#) == 1)
        #expect(value(exposition, #"tenantsync_graph_requests_total{status_class="error"}"#) == 1)
        #expect(value(exposition, "tenantsync_graph_throttled_total") == 1)
        #expect(value(exposition, "tenantsync_graph_resource_units_total") == 4)
        #expect(value(exposition, "tenantsync_graph_request_duration_seconds_count") == 4)
        #expect(value(exposition, #"tenantsync_alert_deliveries_total{channel="smtp",result="failed"}"#) == 1)
        #expect(value(exposition, #"tenantsync_alert_deliveries_total{channel="journal",result="delivered"}"#) == 1)
    }

    @Test("scrapes within the state's age cost one store read; each alert is counted once however often the store is read")
    func stateReadsAreCachedAndAlertsCountedOnce() async throws {
        let cachedSource = StateFixture()
        let cached = exporter(cachedSource)
        for _ in 0..<5 { _ = await cached.exposition() }
        #expect(cachedSource.reads == 1, "five scrapes within the cache age read the store \(cachedSource.reads) times")

        let source = StateFixture(alerts: [
            .init(id: 1, kind: "account-protected", severity: "info"), .init(id: 2, kind: "token-invalid", severity: "critical"),
        ])
        let uncached = exporter(source, maximumStateAge: .zero)
        var exposition = await uncached.exposition().text
        exposition = await uncached.exposition().text
        #expect(source.reads == 2)
        #expect(value(exposition, #"tenantsync_alerts_total{kind="token-invalid",severity="critical"}"#) == 1)
        source.store(.init(id: 3, kind: "token-invalid", severity: "critical"))
        exposition = await uncached.exposition().text
        #expect(value(exposition, #"tenantsync_alerts_total{kind="token-invalid",severity="critical"}"#) == 2)
        #expect(value(exposition, #"tenantsync_alerts_total{kind="account-protected",severity="info"}"#) == 1)
    }

    @Test("a grant or tenant that is gone leaves no stale series")
    func removedGrantsLeaveNoSeries() async throws {
        let source = StateFixture()
        let exporter = exporter(source, maximumStateAge: .zero)
        #expect(await exporter.exposition().text.contains(#"tenant="contoso.com""#))
        source.replace(MetricsState())
        let after = await exporter.exposition().text
        #expect(!after.contains("contoso.com"), "\(after)")
        #expect(value(after, "tenantsync_incidents_open") == 0)
    }

    @Test("a read gives the store the counts it holds and writes again only the tenants whose count moved; the text is a whole render's")
    func onlyTenantsWhoseCountMovedAreWrittenAgain() async throws {
        let source = StateFixture(versions: ["contoso.com": 1, "fabrikam.com": 1])
        let exporter = exporter(source, maximumStateAge: .zero)
        let users = #"tenantsync_directory_users{tenant="contoso.com"}"#
        let fabrikamUsers = #"tenantsync_directory_users{tenant="fabrikam.com"}"#
        let first = await exporter.exposition().text
        #expect(source.asked == [[:]], "a first read knows nothing")
        #expect(first.hasSuffix(String(buffer: exporter.render(StateFixture.everything))), "the first read is the whole state")

        // Both tenants' rows change, but only contoso's count moved: fabrikam's series stay as written.
        var state = StateFixture.everything
        state.tenants[0].directoryUsers = 31
        state.tenants[1].directoryUsers = 5
        source.replace(state)
        source.setVersions(["contoso.com": 2, "fabrikam.com": 1])
        let second = await exporter.exposition().text
        #expect(source.asked.last == ["contoso.com": 1, "fabrikam.com": 1])
        #expect(value(second, users) == 31, "contoso's count moved: written again")
        #expect(value(second, fabrikamUsers) == 0, "fabrikam's did not: kept, not read")

        // Once fabrikam's count moves too, the kept text and the rewritten pieces are exactly a whole render.
        source.setVersions(["contoso.com": 2, "fabrikam.com": 2])
        let third = await exporter.exposition().text
        #expect(source.asked.last == ["contoso.com": 2, "fabrikam.com": 1])
        #expect(value(third, fabrikamUsers) == 5)
        #expect(third.hasSuffix(String(buffer: exporter.render(state))), "\(third)")

        // A tenant gone from the store's counts loses its series without being read.
        state.tenants.removeAll { $0.tenant == "fabrikam.com" }
        state.accounts.removeAll { $0.tenant == "fabrikam.com" }
        state.grants.removeAll { $0.tenant == "fabrikam.com" }
        source.replace(state)
        let fourth = await exporter.exposition().text
        #expect(!fourth.contains("fabrikam.com"), "\(fourth)")
        #expect(fourth.hasSuffix(String(buffer: exporter.render(state))), "\(fourth)")
    }

    @Test("the series kept are those of the tenants the store still counts: a tenant gone is dropped, not only left unwritten")
    func seriesOfTenantsGoneAreDropped() {
        var series = TenantSeries()
        var state = StateFixture.everything
        state.versions = [.init(tenant: "contoso.com", version: 1), .init(tenant: "fabrikam.com", version: 1)]
        series.apply(state)
        #expect(series.knownVersions == ["contoso.com": 1, "fabrikam.com": 1] && series.lastWritten == 2)
        state = MetricsState(versions: [.init(tenant: "contoso.com", version: 1)])
        series.apply(state)
        #expect(series.tenants == ["contoso.com"] && series.lastWritten == 0, "\(series.tenants)")
        #expect(series.knownVersions == ["contoso.com": 1])
    }
}

@Suite("State exposition writer")
struct StateExpositionTests {
    @Test("label values are escaped, timestamps written to the millisecond, each family's lines together, empty families left out")
    func writesTheTextFormat() {
        var exposition = StateExposition()
        exposition.family("a_seconds", "Help with \\ and\nnewline.")
        exposition.sample("tenant", #"we"ird\dom"# + "\nain", .timestamp(Date(timeIntervalSince1970: 1_796_199_107.91)))
        exposition.sample("tenant", "x", .timestamp(Date(timeIntervalSince1970: 1_800_000_000)))
        exposition.family("empty", "Nothing.")
        exposition.family("b", "B.")
        exposition.sample(.integer(2))
        exposition.family("c", "C.")
        exposition.sample("tenant", "t", "service", "s", "grant", "g", .number(0.25))
        exposition.sample("tenant", "t", "service", "s", .timestamp(Date(timeIntervalSince1970: -1.5)))
        #expect(exposition.text == """
            # HELP a_seconds Help with \\\\ and\\nnewline.
            # TYPE a_seconds gauge
            a_seconds{tenant="we\\"ird\\\\dom\\nain"} 1796199107.91
            a_seconds{tenant="x"} 1800000000
            # HELP b B.
            # TYPE b gauge
            b 2
            # HELP c C.
            # TYPE c gauge
            c{tenant="t",service="s",grant="g"} 0.25
            c{tenant="t",service="s"} -1.5

            """)
    }

    @Test("seconds keep the stored millisecond and nothing more")
    func secondsToTheMillisecond() {
        func seconds(_ value: Double) -> String { StateExposition.formatSeconds(value) }
        #expect(seconds(1_796_199_107.001) == "1796199107.001")
        #expect(seconds(1_796_199_107.12) == "1796199107.12")
        #expect(seconds(1_796_199_107.1004) == "1796199107.1")
        #expect(seconds(0) == "0")
        #expect(seconds(-0.25) == "-0.25")
        #expect(seconds(.infinity) == "+Inf")
        #expect(StateExposition.format(0.25) == "0.25" && StateExposition.format(-3) == "-3" && StateExposition.format(.nan) == "NaN")
        #expect(StateExposition.format(Double(Int64.max)) == Double(Int64.max).description)
    }

    @Test("40,000 grants of 10,000 tenants: every series written once, each family's lines together")
    func rendersAFleet() {
        var state = MetricsState()
        for tenant in 0..<10_000 {
            for grant in ["ews", "graph", "sharepoint", "onedrive"] {
                state.grants.append(.init(
                    tenant: "tenant\(tenant).example", service: .exchangeOnline, grant: grant, state: .valid,
                    expiresAt: StateFixture.expiry, nextRefreshAt: StateFixture.expiry, lastRefreshAt: StateFixture.expiry
                ))
            }
        }
        let exporter = PrometheusExporter(
            version: "1", source: StateFixture(), channels: { [] }, refreshMargin: { .seconds(600) }, logger: Logger(label: "test")
        )
        let lines = String(buffer: exporter.render(state)).split(separator: "\n")
        let samples = lines.filter { !$0.hasPrefix("#") }
        #expect(samples.count == 1 + 4 * 40_000 + 1)
        #expect(Set(samples).count == samples.count)
        // A family's samples follow its TYPE line and no other family's sample comes between them.
        var seen: [Substring] = []
        for sample in samples {
            let name = sample.prefix { $0 != "{" && $0 != " " }
            if seen.last != name {
                #expect(!seen.contains(name), "\(name) is split")
                seen.append(name)
            }
        }
        #expect(seen.count == 6)
    }
}
