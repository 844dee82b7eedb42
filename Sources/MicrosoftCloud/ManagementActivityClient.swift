import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import TenantSyncCore

/// Reads the Office 365 Management Activity API (`{manage}/api/v1.0/{tenantId}/activity/feed/…`).
public struct ManagementActivityClient: Sendable {
    /// One content subscription of the tenant (`Audit.Exchange`, …).
    public struct Subscription: Sendable, Decodable, Equatable {
        public var contentType: String
        public var status: String
    }

    public var managementRoot: String
    public var http: HTTPClient
    public var requestTimeout: Duration

    public init(managementRoot: String, http: HTTPClient, requestTimeout: Duration = .seconds(30)) {
        self.managementRoot = managementRoot.hasSuffix("/") ? String(managementRoot.dropLast()) : managementRoot
        self.http = http
        self.requestTimeout = requestTimeout
    }

    /// `GET …/activity/feed/subscriptions/list`: the tenant's subscriptions; proves the token may read activity data.
    public func subscriptions(tenantID: String, accessToken: Secret) async throws -> [Subscription] {
        let url = "\(managementRoot)/api/v1.0/\(tenantID)/activity/feed/subscriptions/list"
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(accessToken.reveal)")
        request.headers.add(name: "Accept", value: "application/json")
        let path = GraphClient.path(of: url)
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .init(requestTimeout))
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw GraphError(kind: .transient, status: nil, code: nil, message: "request failed: \(GraphClient.summary(of: error))", requestID: nil, retryAfter: nil, path: path)
        }
        let status = Int(response.status.code)
        let data = Data(buffer: body)
        if (300..<400).contains(status) {
            throw GraphClient.redirectError(status: status, location: response.headers.first(name: "Location"), path: path)
        }
        // The Management APIs use Graph's error envelope ({"error":{"code":"AF10001","message":…}}).
        guard (200..<300).contains(status) else { throw GraphClient.error(status: status, headers: response.headers, body: data, path: path) }
        do {
            return try JSONDecoder().decode([Subscription].self, from: data)
        } catch {
            throw GraphError(kind: .malformedResponse, status: status, code: nil, message: "the answer is not a list of subscriptions", requestID: nil, retryAfter: nil, path: path)
        }
    }
}
