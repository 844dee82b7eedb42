import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import TestSupport

/// A real Prometheus server (Debian's `prometheus`) on loopback, scraping one target every second,
/// evaluating the given rule files every second, read back through its HTTP query API.
final class PrometheusServer: @unchecked Sendable {
    // @unchecked: `process` is set once in init and only read afterwards.
    let directory: String
    let port: Int
    private let process: Process
    private let logPath: String

    /// - Parameters:
    ///   - target: `HOST:PORT` of the daemon's metrics endpoint, scraped as job `tenantsync` (the job the shipped rules name).
    ///   - ruleFiles: loaded as they are, evaluated every second.
    init(target: String, ruleFiles: [String]) throws {
        directory = NSTemporaryDirectory() + "prometheus-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true)
        port = try freeLoopbackPort()
        let configuration = """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            rule_files:
            \(ruleFiles.map { "  - \"\($0)\"" }.joined(separator: "\n"))
            scrape_configs:
              - job_name: tenantsync
                static_configs:
                  - targets: ["\(target)"]
            """
        try Data(configuration.utf8).write(to: URL(fileURLWithPath: directory + "/prometheus.yml"))
        logPath = directory + "/prometheus.log"
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        process.arguments = [
            "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
            "--web.listen-address=127.0.0.1:\(port)", "--log.level=warn",
        ]
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func stop() {
        process.stopGracefully()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Waits until the server answers `/-/ready`.
    func waitUntilReady() async throws -> Bool {
        try await eventually(timeout: .seconds(60), "prometheus is ready") {
            guard process.isRunning else { return false }
            return (try? await get("/-/ready").status) == 200
        }
    }

    /// One instant-query result: the series' labels and its value.
    struct Sample: Sendable, CustomStringConvertible {
        var labels: [String: String]
        var value: Double
        var description: String { "\(labels) = \(value)" }
    }

    /// Evaluates `expression` now (`/api/v1/query`).
    func query(_ expression: String) async throws -> [Sample] {
        var components = URLComponents()
        components.queryItems = [URLQueryItem(name: "query", value: expression)]
        let encoded = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        let (status, body) = try await get("/api/v1/query?" + encoded)
        guard status == 200,
              let json = try JSONSerialization.jsonObject(with: body) as? [String: Any],
              let data = json["data"] as? [String: Any], let results = data["result"] as? [[String: Any]]
        else { throw QueryFailed(description: "query \(expression): HTTP \(status) \(String(decoding: body, as: UTF8.self))") }
        return results.compactMap { result in
            guard let labels = result["metric"] as? [String: String], let pair = result["value"] as? [Any], pair.count == 2,
                  let text = pair[1] as? String, let value = Double(text)
            else { return nil }
            return Sample(labels: labels, value: value)
        }
    }

    /// The alerts Prometheus holds now (`/api/v1/alerts`), each as its labels plus `state`.
    func alerts() async throws -> [[String: String]] {
        let (status, body) = try await get("/api/v1/alerts")
        guard status == 200, let json = try JSONSerialization.jsonObject(with: body) as? [String: Any],
              let data = json["data"] as? [String: Any], let alerts = data["alerts"] as? [[String: Any]]
        else { throw QueryFailed(description: "alerts: HTTP \(status)") }
        return alerts.compactMap { alert in
            guard var labels = alert["labels"] as? [String: String], let state = alert["state"] as? String else { return nil }
            labels["state"] = state
            return labels
        }
    }

    /// Every metric name Prometheus has stored (`/api/v1/label/__name__/values`).
    func metricNames() async throws -> Set<String> {
        let (status, body) = try await get("/api/v1/label/__name__/values")
        guard status == 200, let json = try JSONSerialization.jsonObject(with: body) as? [String: Any],
              let names = json["data"] as? [String]
        else { throw QueryFailed(description: "names: HTTP \(status)") }
        return Set(names)
    }

    private func get(_ pathAndQuery: String) async throws -> (status: UInt, body: Data) {
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(port)\(pathAndQuery)"), timeout: .seconds(10)
        )
        let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return (response.status.code, Data(buffer: body))
    }

    struct QueryFailed: Error, CustomStringConvertible { var description: String }
}
