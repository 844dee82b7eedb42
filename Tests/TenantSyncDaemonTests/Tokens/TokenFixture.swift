import Credentials
import AsyncHTTPClient
import Foundation
import Logging
import M365Emulator
import MicrosoftCloud
import Synchronization
import TestSupport
import TenantSyncCore
import TenantSyncStore
@testable import TenantSyncDaemon

/// A wall clock a test moves by hand; token expiry and due times are measured on it.
final class TestWallClock: Sendable {
    private let current: Mutex<Date>
    init(_ start: Date = Date()) { current = Mutex(start) }
    var now: Date { current.withLock { $0 } }
    func advance(seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
    func set(_ date: Date) { current.withLock { $0 = date } }
}

/// A real emulator on loopback, a real SQLite store in a temp directory, the real OAuth client and refresher.
struct TokenFixture: Sendable {
    let emulator: M365Emulator
    let base: String
    let http: HTTPClient
    let store: SQLiteStore
    let directory: String
    let client: IdentityPlatformClient
    let logs: LogCapture
    let wall: TestWallClock
    let tenant: Tenant

    static let channels = ["journal", "smtp"]

    static func run(
        configuration: TokenRefresherConfiguration? = nil, requestTimeout: Duration = .seconds(10),
        _ body: @Sendable (TokenFixture) async throws -> Void
    ) async throws {
        var emulatorLogger = Logger(label: "emulator")
        emulatorLogger.logLevel = .critical
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            try await M365Emulator.withRunning(
                configuration: EmulatorConfiguration(tenants: 1, usersPerTenant: 5, groupsPerTenant: 1), logger: emulatorLogger
            ) { emulator, url in
                let logs = LogCapture()
                let base = url.absoluteString
                let store = try SQLiteStore(
                    path: directory + "/t.sqlite", sealer: SecretSealer(keyBytes: Array(repeating: 7, count: 32)), logger: logs.logger("store")
                )
                let wall = TestWallClock()
                let client = try IdentityPlatformClient(
                    httpClient: http, endpoints: MicrosoftEndpoints(authority: base, graph: base, outlook: base + "/outlook"),
                    requestTimeout: requestTimeout, logger: logs.logger("oauth"), now: { wall.now }
                )
                let info = emulator.tenants()[0]
                let tenant = try await store.upsertTenant(id: info.id, domain: info.domain, displayName: info.displayName)
                try await body(TokenFixture(
                    emulator: emulator, base: base, http: http, store: store, directory: directory, client: client, logs: logs,
                    wall: wall, tenant: tenant
                ))
            }
        } catch {
            try await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    var productApp: OAuthClientCredentials {
        OAuthClientCredentials(clientID: EmulatorDefaults.clientID, clientSecret: Secret(EmulatorDefaults.clientSecret))
    }

    var graphResource: String { "https://graph.microsoft.com/.default" }

    func refresher(_ configuration: TokenRefresherConfiguration = .init(alertChannels: Self.channels), clock: any Clock<Duration> = ContinuousClock()) -> TokenRefresher {
        TokenRefresher(
            storage: store, granter: MicrosoftTokenGranter(client: client, productApp: productApp, accounts: store),
            configuration: configuration, logger: logs.logger("refresher"), clock: clock, now: { wall.now }, random: { 0.5 }
        )
    }

    /// Consents as the emulated administrator with the authorization-code flow and PKCE, returning the first token set.
    func consent(scopes: [String]) async throws -> TokenSet {
        let pkce = PKCE()
        let redirect = "http://127.0.0.1:9/callback"
        let url = client.authorizationURL(
            tenant: tenant.id, clientID: productApp.clientID, redirectURI: redirect, scopes: scopes, state: "st", pkce: pkce
        )
        let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        guard response.status.code == 302, let location = response.headers.first(name: "Location"),
              let code = URLComponents(string: location)?.queryItems?.first(where: { $0.name == "code" })?.value
        else {
            throw TenantSyncError(.invalidArgument, "The emulator did not redirect with a code (HTTP \(response.status.code)).")
        }
        return try await client.redeemAuthorizationCode(
            tenant: tenant.id, client: productApp, code: Secret(code), redirectURI: redirect, pkce: pkce, scopes: scopes
        )
    }

    /// An account with one delegated Graph grant holding a consented token set, due for refresh now.
    func delegatedGrant(service: ServiceKind = .sharepointOnline, name: String = "graph") async throws -> (ServiceAccount, Grant) {
        var account = try await store.account(tenantID: tenant.id, service: service)
        if account == nil {
            account = try await store.createAccount(tenantID: tenant.id, service: service, appID: nil, licensingModel: nil)
        }
        guard let account else { throw TenantSyncError(.accountNotFound, "No account.") }
        let grant = try await store.addGrant(accountID: account.id, name: name, resource: graphResource, flow: .delegated)
        let tokens = try await consent(scopes: MicrosoftTokenGranter.delegatedScopes(graphResource))
        try await store.storeTokenSet(grantID: grant.id, tokens: tokens, nextRefreshAt: wall.now)
        try await store.setAccountState(id: account.id, state: .active, provisioningStep: nil, provisioningError: nil)
        return (try await store.account(id: account.id)!, try await store.grant(id: grant.id)!)
    }

    /// Makes the grant's refresh due by moving the wall clock to its next refresh time.
    func makeDue(_ grantID: Int64) async throws {
        if let status = try await store.tokenStatus(grantID: grantID), status.nextRefreshAt > wall.now {
            wall.set(status.nextRefreshAt.addingTimeInterval(1))
        }
    }

    /// Whether an access token is accepted by the emulator's Graph.
    func graphAccepts(_ token: Secret) async throws -> Bool {
        var request = HTTPClientRequest(url: base + "/v1.0/organization")
        request.headers.add(name: "Authorization", value: "Bearer \(token.reveal)")
        return try await http.execute(request, timeout: .seconds(10)).status.code == 200
    }

    func alerts(kind: String) async throws -> [Alert] {
        try await store.alerts(includeAcknowledged: true, limit: 1000).filter { $0.kind == kind }
    }
}
