import AsyncHTTPClient
import Foundation
import Logging
import M365Emulator
import NIOCore
import NIOHTTP1
import Testing

/// An HTTP answer as a third-party client sees it.
struct Answer: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object; records an issue (and returns empty) if it is not one.
    var json: [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            Issue.record("body is not a JSON object: \(text.prefix(300))")
            return [:]
        }
        return object
    }

    var jsonArray: [[String: Any]] {
        (try? JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]]) ?? []
    }

    var values: [[String: Any]] { json["value"] as? [[String: Any]] ?? [] }

    func header(_ name: String) -> String? { headers.first(name: name) }
}

/// A running emulator on 127.0.0.1:0 plus a plain AsyncHTTPClient that never follows redirects.
struct Harness: Sendable {
    let emulator: M365Emulator
    let base: String
    let http: HTTPClient

    var clientID: String { EmulatorDefaults.clientID }
    var clientSecret: String { EmulatorDefaults.clientSecret }

    static func run(_ configuration: EmulatorConfiguration = EmulatorConfiguration(tenants: 2, usersPerTenant: 30, groupsPerTenant: 6),
                    _ body: @Sendable (Harness) async throws -> Void) async throws {
        var logger = Logger(label: "emulator-test")
        logger.logLevel = .critical
        let http = HTTPClient(eventLoopGroupProvider: .singleton,
                              configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(20))))
        do {
            try await M365Emulator.withRunning(configuration: configuration, logger: logger) { emulator, url in
                try await body(Harness(emulator: emulator, base: url.absoluteString, http: http))
            }
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    var firstTenant: TenantInfo { emulator.tenants()[0] }

    func send(_ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> Answer {
        var request = HTTPClientRequest(url: url.hasPrefix("http") ? url : base + url)
        request.method = method
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await http.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return Answer(status: Int(response.status.code), headers: response.headers, body: Array(bytes.readableBytesView))
    }

    func form(_ url: String, _ fields: [String: String], headers: [(String, String)] = []) async throws -> Answer {
        let text = fields.map { "\(encode($0.key))=\(encode($0.value))" }.joined(separator: "&")
        return try await send(.POST, url, headers: [("Content-Type", "application/x-www-form-urlencoded")] + headers, body: Array(text.utf8))
    }

    func admin(_ method: HTTPMethod, _ path: String, json: String? = nil) async throws -> Answer {
        try await send(method, "/_emulator" + path, headers: [("Content-Type", "application/json")], body: json.map { Array($0.utf8) })
    }

    func graph(_ path: String, token: String, headers: [(String, String)] = []) async throws -> Answer {
        try await send(.GET, path.hasPrefix("http") ? path : "/v1.0" + path, headers: [("Authorization", "Bearer \(token)")] + headers)
    }

    /// A client-credentials token of the product app for Graph (or another resource).
    func appToken(tenant: String, scope: String = "https://graph.microsoft.com/.default",
                  clientID: String? = nil, secret: String? = nil) async throws -> String {
        let answer = try await form("/\(tenant)/oauth2/v2.0/token", [
            "grant_type": "client_credentials", "client_id": clientID ?? self.clientID,
            "client_secret": secret ?? clientSecret, "scope": scope,
        ])
        #expect(answer.status == 200, "client credentials failed: \(answer.text)")
        return answer.json["access_token"] as? String ?? ""
    }

    /// Follows `@odata.nextLink` until the end; returns every object and the final JSON page.
    func allPages(_ path: String, token: String, headers: [(String, String)] = []) async throws -> (items: [[String: Any]], pages: Int, last: [String: Any]) {
        var items: [[String: Any]] = []
        var next: String? = path
        var pages = 0
        var last: [String: Any] = [:]
        while let url = next, pages < 10_000 {
            let page = try await graph(url, token: token, headers: headers)
            try #require(page.status == 200, "page \(pages) failed: \(page.text.prefix(300))")
            last = page.json
            items += page.values
            next = last["@odata.nextLink"] as? String
            pages += 1
        }
        return (items, pages, last)
    }

    func encode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? s
    }
}

/// Pulls the query items out of a redirect `Location`.
func queryItems(_ location: String?) -> [String: String] {
    guard let location, let components = URLComponents(string: location) else { return [:] }
    var result: [String: String] = [:]
    for item in components.queryItems ?? [] { result[item.name] = item.value ?? "" }
    return result
}
