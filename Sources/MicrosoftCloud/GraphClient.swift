import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOFoundationCompat
import TenantSyncCore

/// Reads Microsoft Graph v1.0 with an access token the caller supplies.
///
/// Each call is one HTTP request; transient failures (429, 5xx, timeouts,
/// dropped connections) are retried by ``retryPolicy``, honouring `Retry-After`.
/// Everything else is a classified ``GraphError``.
///
/// Requests go only to the origin of `graphRoot`: a URL elsewhere (a next or delta link Graph
/// returned, a stored delta link from another configuration) is refused before the access token
/// is sent. Redirects are errors, never followed: give it a client from ``MicrosoftHTTPClient``,
/// whose redirect configuration is `.disallow`.
public struct GraphClient: Sendable {
    /// Largest body accepted from Graph: a 999-object page is well under this.
    public static let maximumBodyBytes = 64 * 1024 * 1024

    public var graphRoot: String
    public var http: HTTPClient
    public var requestTimeout: Duration
    /// Attempts and waits for transient failures; the waits are slept on ``clock``.
    public var retryPolicy: MicrosoftRetryPolicy
    public var clock: any Clock<Duration>
    public var logger: Logger
    /// Where every request of this client goes; `nil` when `graphRoot` is not an http(s) URL (every request then fails).
    let origin: HTTPOrigin?
    /// Paces every request that carries ``pacing``; shared by all tenants (one per daemon).
    public var pacer: (any GraphRequestPacer)?
    /// The tenant and priority of this client's requests; set per run with ``paced(_:)``.
    public var pacing: GraphPacing?
    /// Told about every request sent (the daemon's metrics); `nil`: nobody.
    public var observer: (any GraphRequestObserver)?

    public init(
        graphRoot: String, http: HTTPClient, requestTimeout: Duration = .seconds(30), maximumAttempts: Int = 5,
        maximumRetryAfter: Duration = .seconds(120), clock: any Clock<Duration> = ContinuousClock(), logger: Logger
    ) {
        self.graphRoot = graphRoot.hasSuffix("/") ? String(graphRoot.dropLast()) : graphRoot
        self.origin = HTTPOrigin(url: graphRoot)
        self.http = http
        self.requestTimeout = requestTimeout
        self.retryPolicy = MicrosoftRetryPolicy(maximumAttempts: maximumAttempts, maximumRetryAfter: maximumRetryAfter)
        self.clock = clock
        self.logger = logger
    }

    /// This client for one tenant's run: its requests are paced and carry `x-ms-throttle-priority`.
    public func paced(_ pacing: GraphPacing) -> GraphClient {
        var client = self
        client.pacing = pacing
        return client
    }

    /// Tells the pacer that this client's tenant has at least `users` users (a no-op when unpaced).
    public func learnedUsers(atLeast users: Int) {
        if let pacer, let pacing { pacer.learnedUsers(pacing, atLeast: users) }
    }

    /// The absolute URL of a v1.0 path such as `/users?$top=999`.
    public func url(_ pathAndQuery: String) -> String { "\(graphRoot)/v1.0\(pathAndQuery)" }

    /// Fetches one page (an absolute URL: a first page, a nextLink or a deltaLink).
    public func page<Item>(
        _ url: String, as: Item.Type, accessToken: Secret, eventualConsistency: Bool = false
    ) async throws -> GraphPage<Item> {
        let body = try await send(.GET, url, json: nil, accessToken: accessToken, eventualConsistency: eventualConsistency)
        return try Self.decodePage(body, as: Item.self, url: url)
    }

    /// Decodes a page body, or throws the `malformedResponse` error a sync reports.
    ///
    /// The bulk shapes (users, groups, members, delta pages) are read straight from the bytes by a
    /// strict scanner; anything it does not vouch for goes through `JSONDecoder`, errors included.
    static func decodePage<Item>(_ body: ByteBuffer, as: Item.Type, url: String) throws -> GraphPage<Item> {
        if let page = body.withUnsafeReadableBytes({ GraphPage<Item>.scanned($0) }) { return page }
        do {
            return try JSONDecoder().decode(GraphPage<Item>.self, from: Data(buffer: body))
        } catch {
            throw GraphError(
                kind: .malformedResponse, status: 200, code: nil,
                message: "the response is not a valid Graph page: \(Self.summary(of: error))",
                requestID: nil, retryAfter: nil, path: Self.path(of: url)
            )
        }
    }

    /// Fetches one object (e.g. `/organization` or a user by UPN).
    public func object<Item: Decodable>(_ url: String, as: Item.Type, accessToken: Secret) async throws -> Item {
        let body = try await get(url, accessToken: accessToken, eventualConsistency: false)
        do {
            return try JSONDecoder().decode(Item.self, from: body)
        } catch {
            throw GraphError(
                kind: .malformedResponse, status: 200, code: nil, message: "the response is not the expected JSON object",
                requestID: nil, retryAfter: nil, path: Self.path(of: url)
            )
        }
    }

    /// GETs `url` with retries; returns the body of a 2xx response.
    public func get(_ url: String, accessToken: Secret, eventualConsistency: Bool) async throws -> Data {
        Data(buffer: try await send(.GET, url, json: nil, accessToken: accessToken, eventualConsistency: eventualConsistency))
    }

    /// PATCHes `url` with a JSON body, with the same retries (PATCH is idempotent); returns the body of a 2xx response.
    public func patch(_ url: String, json: Data, accessToken: Secret) async throws -> Data {
        Data(buffer: try await send(.PATCH, url, json: json, accessToken: accessToken, eventualConsistency: false))
    }

    private func send(_ method: HTTPMethod, _ url: String, json: Data?, accessToken: Secret, eventualConsistency: Bool) async throws -> ByteBuffer {
        try requireGraphOrigin(url)
        let paced = pacer != nil && pacing != nil
        return try await retryPolicy.run(on: clock) { error in
            guard let error = error as? GraphError, error.kind == .transient else { return .permanent }
            // A paced 429 has already paused its tenant in the pacer, which the retry's admission waits out.
            if paced && error.status == 429 { return .transientWaitedElsewhere }
            return .transient(retryAfter: error.retryAfter)
        } willRetry: { error, attempt, delay in
            let error = error as? GraphError
            logger.debug(
                "Graph request failed transiently; retrying",
                metadata: ["graph.path": "\(error?.path ?? "?")", "http.status": "\(error?.status ?? 0)", "retry.delay": "\(delay)", "retry.attempt": "\(attempt)"]
            )
        } _: {
            try await sendOnce(method, url, json: json, accessToken: accessToken, eventualConsistency: eventualConsistency)
        }
    }

    private func sendOnce(_ method: HTTPMethod, _ url: String, json: Data?, accessToken: Secret, eventualConsistency: Bool) async throws -> ByteBuffer {
        let reserved = GraphResourceUnits.estimate(url)
        if let pacer, let pacing { try await pacer.admit(pacing, cost: reserved) }
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let pacing { request.headers.add(name: "x-ms-throttle-priority", value: pacing.priority.rawValue) }
        // Delta rounds page at the server's default size (100–200 objects) unless asked: the largest page is the fewest
        // requests and RU for the same changes. Microsoft caps it at what it serves ("Use delta query", Prefer header).
        if Self.isDelta(url) { request.headers.add(name: "Prefer", value: "odata.maxpagesize=999") }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: json))
        }
        request.headers.add(name: "Authorization", value: "Bearer \(accessToken.reveal)")
        request.headers.add(name: "Accept", value: "application/json")
        if eventualConsistency { request.headers.add(name: "ConsistencyLevel", value: "eventual") }
        let response: HTTPClientResponse
        let body: ByteBuffer
        let sentAt = ContinuousClock.now
        do {
            response = try await http.execute(request, timeout: .init(requestTimeout))
            body = try await response.body.collect(upTo: Self.maximumBodyBytes)
        } catch let error as GraphError {
            throw error
        } catch {
            observer?.graphRequestFinished(status: nil, resourceUnits: 0, duration: sentAt.duration(to: .now))
            throw GraphError(
                kind: .transient, status: nil, code: nil, message: "request failed: \(Self.summary(of: error))",
                requestID: nil, retryAfter: nil, path: Self.path(of: url)
            )
        }
        let status = Int(response.status.code)
        observer?.graphRequestFinished(
            status: status, resourceUnits: response.headers.first(name: "x-ms-resource-unit").flatMap(Int.init) ?? reserved,
            duration: sentAt.duration(to: .now)
        )
        if let pacer, let pacing {
            if status == 429 {
                let retryAfter = response.headers.first(name: "Retry-After").flatMap(Int64.init).map { Duration.seconds($0) }
                pacer.throttled(pacing, retryAfter: retryAfter ?? .seconds(1))
            } else {
                pacer.answered(
                    pacing, reserved: reserved, charged: response.headers.first(name: "x-ms-resource-unit").flatMap(Int.init),
                    limitPercentage: response.headers.first(name: "x-ms-throttle-limit-percentage").flatMap(Double.init)
                )
            }
        }
        if (200..<300).contains(status) { return body }
        if (300..<400).contains(status) {
            throw Self.redirectError(status: status, location: response.headers.first(name: "Location"), path: Self.path(of: url))
        }
        // The path (a URL parse) only for errors: a sync sends thousands of requests.
        throw Self.error(status: status, headers: response.headers, body: Data(buffer: body), path: Self.path(of: url))
    }

    /// Whether `url` reads a delta round (`…/delta` with or without a query); no URL parse, a sync sends many requests.
    static func isDelta(_ url: String) -> Bool {
        let path = url.prefix { $0 != "?" }
        return path.hasSuffix("/delta") || path.hasSuffix("/microsoft.graph.delta")
    }

    /// Refuses a URL outside the Graph root's origin, before anything (the token above all) is sent.
    func requireGraphOrigin(_ url: String) throws {
        // The common case without a URL parse: a sync sends thousands of requests. The "/" after the
        // root keeps `https://graph.microsoft.com.example` and `…com@example` out of the fast path.
        if url.hasPrefix(graphRoot), url.utf8.dropFirst(graphRoot.utf8.count).first.map({ $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }) ?? true {
            return
        }
        let target = HTTPOrigin(url: url)
        if let target, target == origin { return }
        throw GraphError(
            kind: .malformedResponse, status: nil, code: "foreignOrigin",
            message: "refusing to send a Graph request to \(target?.description ?? "a URL that is not http(s)") outside the configured Graph origin \(origin?.description ?? graphRoot); the access token goes to Graph only",
            requestID: nil, retryAfter: nil, path: target == nil ? "?" : Self.path(of: url)
        )
    }

    /// A 3xx answer: never followed, since the Authorization header would go with it.
    static func redirectError(status: Int, location: String?, path: String) -> GraphError {
        GraphError(
            kind: .badRequest, status: status, code: "redirect",
            message: "Graph answered with a redirect to \(location.map(Self.withoutQuery) ?? "no Location"); redirects are not followed (check [microsoft] graph and any proxy)",
            requestID: nil, retryAfter: nil, path: path
        )
    }

    /// A URL without its query and fragment: a redirect target may carry a token there.
    static func withoutQuery(_ url: String) -> String {
        String(url.prefix { $0 != "?" && $0 != "#" }.prefix(300))
    }

    static func error(status: Int, headers: HTTPHeaders, body: Data, path: String) -> GraphError {
        struct Envelope: Decodable {
            struct Inner: Decodable {
                var code: String?
                var message: String?
                var innerError: [String: String]?
            }
            var error: Inner?
        }
        let envelope = try? JSONDecoder().decode(Envelope.self, from: body)
        let retryAfter = headers.first(name: "Retry-After").flatMap(Int64.init).map { Duration.seconds($0) }
        let kind: GraphError.Kind
        switch status {
        case 401: kind = .unauthorized
        case 402: kind = .paymentRequired
        case 403: kind = .forbidden
        case 404: kind = .notFound
        case 410: kind = .deltaReset
        // An expired or unknown delta token: "Use delta query to track changes in Microsoft Graph data" documents
        // 400 syncStateNotFound (and resyncRequired, syncStateInvalid) for directory resources.
        case 400 where ["syncStateNotFound", "resyncRequired", "syncStateInvalid"].contains(envelope?.error?.code ?? ""):
            kind = .deltaReset
        case 429, 500...599: kind = .transient
        default: kind = .badRequest
        }
        // Graph's messages never contain credentials; cap their length all the same.
        let message = envelope?.error?.message.map { String($0.prefix(300)) } ?? "HTTP \(status)"
        var error = GraphError(
            kind: kind, status: status, code: envelope?.error?.code, message: message,
            requestID: envelope?.error?.innerError?["request-id"], retryAfter: retryAfter, path: path
        )
        if status == 401 { error.claimsChallenge = ClaimsChallenge.find(in: headers) }
        return error
    }

    /// The path of a URL without host and query: safe to log.
    public static func path(of url: String) -> String {
        guard let components = URLComponents(string: url) else { return "?" }
        return components.path
    }

    static func summary(of error: any Error) -> String {
        String(String(describing: error).prefix(200))
    }
}
