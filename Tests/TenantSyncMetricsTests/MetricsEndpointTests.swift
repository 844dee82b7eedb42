import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import TenantSyncCore
import TenantSyncMetrics
import Testing
import TestSupport

/// The endpoint over real loopback sockets: what it serves, and how a reload moves or closes it.
@Suite("Metrics endpoint", .serialized)
struct MetricsEndpointTests {
    /// Runs an endpoint (first address `listen`) until `body` returns.
    func withEndpoint(
        listen: MetricsListenAddress?, logs: LogCapture = LogCapture(), source: StateFixture = StateFixture(),
        _ body: @Sendable (MetricsEndpoint, LogCapture) async throws -> Void
    ) async throws {
        let exporter = PrometheusExporter(
            version: "1.2.3", source: source, channels: { ["journal"] }, refreshMargin: { .seconds(600) }, logger: logs.logger()
        )
        let endpoint = MetricsEndpoint(listen: listen, exporter: exporter, logger: logs.logger())
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await endpoint.run() }
            do {
                try await body(endpoint, logs)
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    func bound(_ endpoint: MetricsEndpoint, _ logs: LogCapture, otherThan previous: MetricsListenAddress? = nil) async throws -> MetricsListenAddress {
        var address: MetricsListenAddress?
        // Generous: the whole suite runs in parallel on two cores.
        let listening = try await eventually(timeout: .seconds(60), "the endpoint listens") {
            address = endpoint.boundAddress
            return address != nil && address != previous
        }
        try #require(listening, "the endpoint never listened; its log:\n\(logs.text)")
        return try #require(address)
    }

    func get(_ address: MetricsListenAddress, _ path: String) async throws -> (status: UInt, contentType: String?, body: String) {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://\(address)\(path)"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return (response.status.code, response.headers.first(name: "Content-Type"), String(buffer: body))
    }

    @Test("GET /metrics answers the text exposition format; other paths are 404")
    func servesTheExposition() async throws {
        try await withEndpoint(listen: MetricsListenAddress(host: "127.0.0.1", port: 0)) { endpoint, logs in
            let address = try await bound(endpoint, logs)
            #expect(address.port != 0)
            let metrics = try await get(address, "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.contentType == "text/plain; version=0.0.4; charset=utf-8")
            #expect(metrics.body.contains(#"tenantsync_build_info{version="1.2.3"} 1"#), "\(metrics.body)")
            #expect(metrics.body.contains(#"tenantsync_grant_valid{tenant="contoso.com",service="exchange-online",grant="graph"} 0"#))
            #expect(try await get(address, "/").status == 404)
        }
    }

    @Test("once listening, the endpoint reads the state before any scrape, and the first scrape is served from that read")
    func readsTheStateAsItStartsListening() async throws {
        let source = StateFixture()
        try await withEndpoint(listen: MetricsListenAddress(host: "127.0.0.1", port: 0), source: source) { endpoint, logs in
            let address = try await bound(endpoint, logs)
            let read = try await eventually("the state is read with no scrape") { source.reads == 1 }
            #expect(read, "reads: \(source.reads)")
            let metrics = try await get(address, "/metrics")
            #expect(metrics.body.contains(#"tenantsync_directory_users{tenant="contoso.com"} 30"#), "\(metrics.body)")
            #expect(source.reads == 1, "the first scrape read again: \(source.reads)")
        }
    }

    @Test("a reload that changes listen closes the old port and opens the new one; none closes it")
    func rebindsOnReload() async throws {
        let logs = LogCapture()
        try await withEndpoint(listen: MetricsListenAddress(host: "127.0.0.1", port: 0), logs: logs) { endpoint, logs in
            let first = try await bound(endpoint, logs)
            let next = try freeLoopbackPort()
            endpoint.rebind(to: MetricsListenAddress(host: "127.0.0.1", port: next))
            let second = try await bound(endpoint, logs, otherThan: first)
            #expect(second.port == next)
            #expect(try await get(second, "/metrics").status == 200)
            #expect(!acceptsConnections(port: first.port), "the old port still accepts connections after the rebind")

            endpoint.rebind(to: nil)
            let closed = try await eventually("the endpoint closes") {
                endpoint.boundAddress == nil && !acceptsConnections(port: next) && logs.text.contains("Metrics endpoint off")
            }
            #expect(closed, "the endpoint still listens after listen was removed (or did not say it closed): \(logs.text)")
        }
    }

    @Test("an address that cannot be bound is logged and leaves the endpoint waiting for the next reload")
    func unbindableAddressIsLogged() async throws {
        let logs = LogCapture()
        // The port is held by another endpoint of our own.
        try await withEndpoint(listen: MetricsListenAddress(host: "127.0.0.1", port: 0)) { holder, holderLogs in
            let port = try await bound(holder, holderLogs).port
            try await withEndpoint(listen: MetricsListenAddress(host: "127.0.0.1", port: port), logs: logs) { endpoint, logs in
                let failed = try await eventually("the bind failure is logged") {
                    logs.text.contains("Metrics endpoint could not listen")
                }
                #expect(failed, "\(logs.text)")
                #expect(endpoint.boundAddress == nil)
                // The endpoint is still there: a reload to a free port serves.
                endpoint.rebind(to: MetricsListenAddress(host: "127.0.0.1", port: 0))
                let address = try await bound(endpoint, logs)
                #expect(try await get(address, "/metrics").status == 200)
            }
        }
    }

    @Test("a reload naming the same address again retries a bind that failed, once the port is free")
    func sameAddressRetriesAFailedBind() async throws {
        let logs = LogCapture()
        // A real port, taken by another endpoint of our own, then freed.
        try await withEndpoint(listen: MetricsListenAddress(host: "127.0.0.1", port: 0)) { holder, holderLogs in
            let taken = try await bound(holder, holderLogs)
            try await withEndpoint(listen: taken, logs: logs) { endpoint, logs in
                let failed = try await eventually("the bind failure is logged") {
                    logs.text.contains("Metrics endpoint could not listen")
                }
                #expect(failed, "\(logs.text)")
                holder.rebind(to: nil)
                let freed = try await eventually("the holder frees the port") { holder.boundAddress == nil && !acceptsConnections(port: taken.port) }
                try #require(freed, "the holder still listens on \(taken)")

                endpoint.rebind(to: taken)
                let address = try await bound(endpoint, logs)
                #expect(address == taken, "the endpoint listens on \(address), not on the address it was given again")
                #expect(try await get(address, "/metrics").status == 200)
            }
        }
    }
}
