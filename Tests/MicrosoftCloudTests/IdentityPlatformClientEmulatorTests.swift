import AsyncHTTPClient
import Foundation
import Logging
import M365Emulator
import Synchronization
import Testing
import TenantSyncCore
@testable import MicrosoftCloud

/// The continuous clock, remembering every sleep asked of it.
final class RecordingClock: Clock, Sendable {
    typealias Instant = ContinuousClock.Instant
    private let base = ContinuousClock()
    private let sleeps = Mutex<[Duration]>([])
    var now: Instant { base.now }
    var minimumResolution: Duration { base.minimumResolution }
    var requested: [Duration] { sleeps.withLock { $0 } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        sleeps.withLock { $0.append(base.now.duration(to: deadline)) }
        try await base.sleep(until: deadline, tolerance: tolerance)
    }
}

@Suite("Identity platform client against the emulator", .serialized)
struct IdentityPlatformClientEmulatorTests {
    struct Context: Sendable {
        let emulator: M365Emulator
        let client: IdentityPlatformClient
        let http: HTTPClient
        let tenant: TenantInfo
        var product: OAuthClientCredentials {
            OAuthClientCredentials(clientID: EmulatorDefaults.clientID, clientSecret: Secret(EmulatorDefaults.clientSecret))
        }
    }

    static func run(requestTimeout: Duration = .seconds(10), _ body: @Sendable (Context) async throws -> Void) async throws {
        var quiet = Logger(label: "emulator")
        quiet.logLevel = .critical
        let logger = quiet
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            try await M365Emulator.withRunning(configuration: EmulatorConfiguration(tenants: 1, usersPerTenant: 3, groupsPerTenant: 1), logger: logger) { emulator, url in
                let base = url.absoluteString
                let client = try IdentityPlatformClient(
                    httpClient: http, endpoints: MicrosoftEndpoints(authority: base, graph: base, outlook: base + "/outlook"),
                    requestTimeout: requestTimeout, logger: logger
                )
                try await body(Context(emulator: emulator, client: client, http: http, tenant: emulator.tenants()[0]))
            }
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    @Test("Client credentials: a token with an expiry; a wrong secret is invalid_client AADSTS7000215 with trace ids")
    func clientCredentials() async throws {
        try await Self.run { c in
            let tokens = try await c.client.clientCredentials(tenant: c.tenant.id, client: c.product, scope: "https://graph.microsoft.com/.default")
            #expect(!tokens.accessToken.isEmpty)
            #expect(tokens.refreshToken == nil)
            #expect(tokens.expiresAt.timeIntervalSince(tokens.obtainedAt) >= 3600)
            let wrong = OAuthClientCredentials(clientID: EmulatorDefaults.clientID, clientSecret: Secret("wrong"))
            let error = try await #require(throws: IdentityPlatformError.self) {
                try await c.client.clientCredentials(tenant: c.tenant.id, client: wrong, scope: "https://graph.microsoft.com/.default")
            }
            #expect(error.httpStatus == 401)
            #expect(error.error == "invalid_client")
            #expect(error.errorCodes == [7000215])
            #expect(error.traceID?.isEmpty == false)
            #expect(error.correlationID?.isEmpty == false)
            #expect(TokenErrorClassifier.classify(error.failure) == .permanent(.clientCredentialsInvalid))
        }
    }

    @Test("Authorization code with PKCE, then refresh with rotation and refresh_in")
    func authorizationCodeAndRefresh() async throws {
        try await Self.run { c in
            try c.emulator.updateSettings(tenant: c.tenant.id, TenantSettingsPatch(includeRefreshIn: true))
            let scopes = ["https://graph.microsoft.com/.default", "offline_access"]
            let pkce = PKCE()
            let redirect = "http://127.0.0.1:9/cb"
            let url = c.client.authorizationURL(tenant: c.tenant.id, clientID: c.product.clientID, redirectURI: redirect, scopes: scopes, state: "xyz", pkce: pkce)
            let response = try await c.http.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
            #expect(response.status.code == 302)
            let query = URLComponents(string: try #require(response.headers.first(name: "Location")))?.queryItems ?? []
            #expect(query.first { $0.name == "state" }?.value == "xyz")
            let code = try #require(query.first { $0.name == "code" }?.value)

            // A wrong verifier is refused; the code is still good for the right one.
            await #expect(throws: IdentityPlatformError.self) {
                try await c.client.redeemAuthorizationCode(
                    tenant: c.tenant.id, client: c.product, code: Secret(code), redirectURI: redirect,
                    pkce: PKCE(verifier: String(repeating: "a", count: 43)), scopes: scopes
                )
            }
            let first = try await c.client.redeemAuthorizationCode(
                tenant: c.tenant.id, client: c.product, code: Secret(code), redirectURI: redirect, pkce: pkce, scopes: scopes
            )
            let firstRefresh = try #require(first.refreshToken)
            #expect(first.refreshInAt != nil && first.refreshInAt! < first.expiresAt)
            let second = try await c.client.refresh(tenant: c.tenant.id, client: c.product, refreshToken: firstRefresh, scopes: scopes)
            #expect(second.refreshToken != nil && second.refreshToken != firstRefresh)
            #expect(second.scopes.contains("offline_access"))

            // Redeeming the same code twice is AADSTS54005, permanent.
            let reused = try await #require(throws: IdentityPlatformError.self) {
                try await c.client.redeemAuthorizationCode(
                    tenant: c.tenant.id, client: c.product, code: Secret(code), redirectURI: redirect, pkce: pkce, scopes: scopes
                )
            }
            #expect(reused.errorCodes.contains(54005))
        }
    }

    @Test("Device code: polls at the interval, slows down by five seconds on slow_down, returns the tokens once approved")
    func deviceCodeSlowDown() async throws {
        try await Self.run { c in
            try c.emulator.updateSettings(tenant: c.tenant.id, TenantSettingsPatch(deviceCodeIntervalSeconds: 1))
            let scopes = ["https://graph.microsoft.com/.default", "offline_access"]
            var authorization = try await c.client.startDeviceCode(tenant: c.tenant.id, clientID: c.product.clientID, scopes: scopes)
            #expect(authorization.interval == .seconds(1))
            #expect(!authorization.userCode.isEmpty)
            // Poll too fast on purpose: pending, then slow_down, after which the client must wait five seconds more.
            authorization.interval = .milliseconds(100)
            let clock = RecordingClock()
            let pending = authorization
            let tokens = try await withThrowingTaskGroup(of: TokenSet?.self) { group in
                group.addTask {
                    try await c.client.pollDeviceCode(tenant: c.tenant.id, client: c.product, authorization: pending, clock: clock)
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(1))
                    try c.emulator.approveDeviceCode(userCode: pending.userCode)
                    return nil
                }
                var result: TokenSet?
                for try await value in group { if let value { result = value } }
                return try #require(result)
            }
            #expect(tokens.refreshToken != nil)
            #expect(Array(clock.requested.prefix(2)) == [.milliseconds(100), .milliseconds(100)])
            #expect(clock.requested.count == 3, "\(clock.requested)")
            #expect(clock.requested.last == .milliseconds(5_100), "slow_down was not answered by a five seconds longer wait")
        }
    }

    @Test("Device code: a declined sign-in ends polling with authorization_declined")
    func deviceCodeDeclined() async throws {
        try await Self.run { c in
            try c.emulator.updateSettings(tenant: c.tenant.id, TenantSettingsPatch(deviceCodeIntervalSeconds: 1))
            let authorization = try await c.client.startDeviceCode(tenant: c.tenant.id, clientID: c.product.clientID, scopes: ["https://graph.microsoft.com/.default"])
            try c.emulator.declineDeviceCode(userCode: authorization.userCode)
            let error = try await #require(throws: IdentityPlatformError.self) {
                try await c.client.pollDeviceCode(tenant: c.tenant.id, client: c.product, authorization: authorization)
            }
            #expect(error.error == "authorization_declined")
        }
    }

    @Test("Faults become typed transient failures", arguments: [
        (FaultRule.Kind.status, 503, "HTTP 503"), (.status, 429, "HTTP 429"), (.drop, 0, "connection-failed"),
        (.malformedJSON, 0, "malformed-response"), (.delay, 0, "timeout"),
    ])
    func faults(kind: FaultRule.Kind, status: Int, summary: String) async throws {
        try await Self.run(requestTimeout: .milliseconds(500)) { c in
            try c.emulator.addFault(FaultRule(
                path: "/oauth2/v2.0/token", kind: kind, status: status == 0 ? nil : status,
                retryAfterSeconds: status == 429 ? 17 : nil, delayMilliseconds: kind == .delay ? 2_000 : nil, times: 1
            ))
            let error = try await #require(throws: IdentityPlatformError.self) {
                try await c.client.clientCredentials(tenant: c.tenant.id, client: c.product, scope: "https://graph.microsoft.com/.default")
            }
            #expect(error.failure.summary.contains(summary), "\(error.failure.summary)")
            #expect(TokenErrorClassifier.classify(error.failure) == .transient)
            if status == 429 { #expect(error.retryAfter == .seconds(17)) }
        }
    }
}
