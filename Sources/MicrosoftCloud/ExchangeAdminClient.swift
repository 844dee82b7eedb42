import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import TenantSyncCore

/// Runs Exchange Online cmdlets through the admin REST API Exchange Online PowerShell V3 uses:
/// `POST {outlook}/adminapi/beta/{tenantId}/InvokeCommand` with `{"CmdletInput":{"CmdletName":…,"Parameters":{…}}}`.
///
/// `Get-*` cmdlets are retried on 429/5xx and on no answer, by ``retryPolicy`` (honouring `Retry-After`);
/// changing cmdlets are sent once, so that a lost answer never creates an object twice: callers look
/// objects up by name before creating them.
public struct ExchangeAdminClient: Sendable {
    /// Largest answer accepted: a tenant's connectors and rules are far below this.
    public static let maximumBodyBytes = 8 * 1024 * 1024

    public var outlookRoot: String
    public var http: HTTPClient
    public var requestTimeout: Duration
    /// Attempts and waits for a `Get-*` cmdlet's transient failures; the waits are slept on ``clock``.
    public var retryPolicy: MicrosoftRetryPolicy
    public var clock: any Clock<Duration>
    public var logger: Logger

    public init(
        outlookRoot: String, http: HTTPClient, requestTimeout: Duration = .seconds(60), maximumAttempts: Int = 4,
        maximumRetryAfter: Duration = .seconds(120), clock: any Clock<Duration> = ContinuousClock(), logger: Logger
    ) {
        self.outlookRoot = outlookRoot.hasSuffix("/") ? String(outlookRoot.dropLast()) : outlookRoot
        self.http = http
        self.requestTimeout = requestTimeout
        self.retryPolicy = MicrosoftRetryPolicy(maximumAttempts: maximumAttempts, maximumRetryAfter: maximumRetryAfter)
        self.clock = clock
        self.logger = logger
    }

    /// The InvokeCommand URL of a tenant.
    public func invokeURL(tenantID: String) -> String { "\(outlookRoot)/adminapi/beta/\(tenantID)/InvokeCommand" }

    /// Runs one cmdlet; returns the objects of its `value` array.
    public func invoke(tenantID: String, cmdlet: String, parameters: [String: ExchangeParameter] = [:], accessToken: Secret) async throws -> [ExchangeObject] {
        let retryable = cmdlet.lowercased().hasPrefix("get-")
        return try await retryPolicy.run(on: clock) { error in
            guard retryable, let error = error as? ExchangeAdminError, error.isTransient else { return .permanent }
            return .transient(retryAfter: error.retryAfter)
        } willRetry: { error, attempt, delay in
            logger.debug(
                "Exchange cmdlet failed transiently; retrying",
                metadata: [
                    "exchange.cmdlet": "\(cmdlet)", "http.status": "\((error as? ExchangeAdminError)?.status ?? 0)",
                    "retry.delay": "\(delay)", "retry.attempt": "\(attempt)",
                ]
            )
        } _: {
            try await invokeOnce(tenantID: tenantID, cmdlet: cmdlet, parameters: parameters, accessToken: accessToken)
        }
    }

    private func invokeOnce(tenantID: String, cmdlet: String, parameters: [String: ExchangeParameter], accessToken: Secret) async throws -> [ExchangeObject] {
        struct Input: Encodable {
            var CmdletName: String
            var Parameters: [String: ExchangeParameter]
        }
        struct Body: Encodable { var CmdletInput: Input }
        var request = HTTPClientRequest(url: invokeURL(tenantID: tenantID))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Authorization", value: "Bearer \(accessToken.reveal)")
        request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(Body(CmdletInput: Input(CmdletName: cmdlet, Parameters: parameters)))))
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .init(requestTimeout))
            body = try await response.body.collect(upTo: Self.maximumBodyBytes)
        } catch {
            throw ExchangeAdminError(cmdlet: cmdlet, status: nil, code: nil, message: "no answer: \(String(String(describing: error).prefix(200)))")
        }
        let status = Int(response.status.code)
        let data = Data(buffer: body)
        if (300..<400).contains(status) {
            // Never followed (MicrosoftHTTPClient disallows redirects): the bearer token would go along.
            let location = response.headers.first(name: "Location").map(GraphClient.withoutQuery) ?? "no Location"
            throw ExchangeAdminError(
                cmdlet: cmdlet, status: status, code: "redirect",
                message: "Exchange Online answered with a redirect to \(location); redirects are not followed (check [microsoft] outlook and any proxy)"
            )
        }
        guard (200..<300).contains(status) else {
            var error = Self.error(status: status, body: data, cmdlet: cmdlet)
            if status == 401 { error.claimsChallenge = ClaimsChallenge.find(in: response.headers) }
            error.retryAfter = response.headers.first(name: "Retry-After").flatMap { IdentityPlatformClient.retryAfterDuration($0) }
            throw error
        }
        struct Answer: Decodable { var value: [ExchangeObject]? }
        do {
            return try JSONDecoder().decode(Answer.self, from: data).value ?? []
        } catch {
            throw ExchangeAdminError(cmdlet: cmdlet, status: status, code: nil, message: "the answer is not the JSON Exchange sends")
        }
    }

    /// Unwraps Exchange's error envelope; a body that is not JSON (Exchange sends NUL bytes with some 403s) is said so.
    static func error(status: Int, body: Data, cmdlet: String) -> ExchangeAdminError {
        struct Envelope: Decodable {
            struct Detail: Decodable { var message: String? }
            struct Internal: Decodable { var message: String?; var type: String? }
            struct Inner: Decodable { var internalexception: Internal? }
            struct Body: Decodable { var code: String?; var message: String?; var details: [Detail]?; var innererror: Inner? }
            var error: Body?
        }
        guard let envelope = try? JSONDecoder().decode(Envelope.self, from: body), let error = envelope.error else {
            return ExchangeAdminError(cmdlet: cmdlet, status: status, code: nil, message: "HTTP \(status) with a body that is not JSON")
        }
        var type = error.innererror?.internalexception?.type
        var message = error.innererror?.internalexception?.message
        if message == nil, var detail = error.details?.first?.message {
            // "|Type|text": the type between the bars, the text after.
            if detail.hasPrefix("|"), let end = detail.dropFirst().firstIndex(of: "|") {
                type = String(detail[detail.index(after: detail.startIndex)..<end])
                detail = String(detail[detail.index(after: end)...])
            }
            message = detail
        }
        // Exchange's messages carry no credentials; cap their length all the same.
        return ExchangeAdminError(
            cmdlet: cmdlet, status: status, code: error.code, message: String((message ?? error.message ?? "HTTP \(status)").prefix(400)), type: type
        )
    }
}

/// One cmdlet parameter value.
public enum ExchangeParameter: Sendable, Encodable, Equatable {
    case string(String)
    case bool(Bool)
    case int(Int)
    case list([String])

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .list(let value): try container.encode(value)
        }
    }
}

/// One object a cmdlet returned, with the properties the daemon reads.
public struct ExchangeObject: Sendable, Decodable, Equatable {
    public var name: String?
    public var identity: String?
    /// Connectors: `Enabled`.
    public var enabled: Bool?
    /// Transport rules: `Enabled` or `Disabled`.
    public var state: String?

    enum CodingKeys: String, CodingKey {
        case name = "Name"
        case identity = "Identity"
        case enabled = "Enabled"
        case state = "State"
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try? container.decodeIfPresent(String.self, forKey: .name)
        identity = try? container.decodeIfPresent(String.self, forKey: .identity)
        enabled = try? container.decodeIfPresent(Bool.self, forKey: .enabled)
        state = try? container.decodeIfPresent(String.self, forKey: .state)
    }
}
