import Credentials
import AsyncHTTPClient
import Foundation
import GRDB
import Logging
import M365Emulator
import MicrosoftCloud
import Testing
import TestSupport
import TenantSyncCore
import TenantSyncStore
@testable import TenantSyncDaemon
#if canImport(Glibc)
import Glibc
#endif

/// SIGKILL of the real daemon at random moments while it rotates strict single-use refresh tokens.
@Suite("Token crash safety", .serialized)
struct TokenCrashSafetyTests {
    static let key: [UInt8] = (0..<32).map { UInt8(($0 * 29 + 3) % 256) }
    static let services: [ServiceKind] = [.exchangeOnline, .sharepointOnline, .onedrive]
    static let grantsPerAccount = 4
    static let cycles = 12

    @Test("SIGKILL at random moments across hundreds of refreshes: every grant still refreshes, no token-invalid incident")
    func killedWhileRefreshing() async throws {
        // Two-second access tokens: every grant is due a second after each refresh. Strict rotation with
        // retry: a consumed refresh token is refused once a token issued from it was used, so a daemon that
        // ever went back to an older token after a crash would be caught (`token.refresh_token.reused`);
        // redeeming again a token whose answer died with the process is allowed, as no client can avoid it.
        let settings = TenantSettings(
            accessTokenLifetimeSeconds: 2, strictRefreshTokens: true, strictRefreshTokenRetry: true, throttlingEnabled: false
        )
        let configuration = EmulatorConfiguration(tenants: 2, usersPerTenant: 5, groupsPerTenant: 1, seed: 4, tenantSettings: settings)
        var emulatorLogger = Logger(label: "emulator")
        emulatorLogger.logLevel = .critical
        try await M365Emulator.withRunning(configuration: configuration, logger: emulatorLogger) { emulator, url in
            let tenants = emulator.tenants()
            let sandbox = try DaemonSandbox()
            let grantIDs = try await Self.seed(sandbox, emulator: emulator, url: url, tenants: tenants)
            try SyncCrashSafetyTests.config(sandbox, url: url, secret: emulator.configuration.clientSecret)
            let refreshCount = { () throws -> Int in
                try tenants.reduce(0) { $0 + (try emulator.counters(tenant: $1.id)["token.refresh_token"] ?? 0) }
            }

            var generator = SystemRandomNumberGenerator()
            for cycle in 0..<Self.cycles {
                let daemon = try DaemonProcess(arguments: ["--config", sandbox.configPath])
                // Anywhere from start-up (migrations, the first due scan) to a couple of seconds of steady refreshing.
                try await Task.sleep(for: .milliseconds(Int64.random(in: 300...3_500, using: &generator)))
                daemon.signal(SIGKILL)
                #expect(await daemon.waitForExit(timeout: .seconds(10)) != nil, "cycle \(cycle): the daemon did not die")
                let queue = try DatabaseQueue(path: sandbox.databasePath)
                let check = try await queue.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
                try queue.close()
                #expect(check == ["ok"], "cycle \(cycle): integrity after SIGKILL: \(check)")
            }
            let refreshesWhileKilled = try refreshCount()
            #expect(refreshesWhileKilled >= 300, "only \(refreshesWhileKilled) refreshes across \(Self.cycles) kills")

            // After the crashes: one clean run in which every grant refreshes at least once more.
            let before = try await Self.generations(sandbox, grantIDs: grantIDs)
            let daemon = try DaemonProcess(arguments: ["--config", sandbox.configPath])
            #expect(await daemon.waitForLog("tenantsyncd started"), "never started: \(daemon.log)")
            let allRefreshed = try await eventually(timeout: .seconds(20), "every grant refreshed after the crashes") {
                let now = try await Self.generations(sandbox, grantIDs: grantIDs)
                return grantIDs.allSatisfy { (now[$0] ?? 0) > (before[$0] ?? 0) }
            }
            daemon.signal(SIGTERM)
            #expect(await daemon.waitForExit() == 0, "log: \(daemon.log)")
            #expect(allRefreshed, "some grants did not refresh after the crashes")

            let store = try SQLiteStore(path: sandbox.databasePath, sealer: SecretSealer(keyBytes: Self.key), logger: Logger(label: "test"))
            for grantID in grantIDs {
                #expect(try await store.grant(id: grantID)?.state == .valid, "grant \(grantID) is no longer valid")
                let status = try #require(try await store.tokenStatus(grantID: grantID))
                #expect(status.lastRefreshOutcome == "ok", "grant \(grantID): \(status.lastRefreshOutcome ?? "never refreshed")")
                let incidents = try await store.incidents(grantID: grantID)
                #expect(!incidents.contains { $0.kind == .tokenInvalid }, "grant \(grantID) raised a token-invalid incident")
            }
            #expect(try await store.openIncidents().isEmpty)
            let alerts = try await store.alerts(includeAcknowledged: true, limit: 1_000)
            #expect(!alerts.contains { $0.kind == TokenAlertComposer.tokenInvalidKind }, "a token-invalid alert was raised")
            #expect(try store.integrityCheck() == ["ok"])
            try store.close()

            var reused = 0, retried = 0
            for tenant in tenants {
                let counters = try emulator.counters(tenant: tenant.id)
                reused += counters["token.refresh_token.reused"] ?? 0
                retried += counters["token.refresh_token.retried"] ?? 0
            }
            #expect(reused == 0, "the daemon redeemed a refresh token it had already replaced \(reused) times")
            // A retry only follows an answer lost with a killed process: at most one per grant in flight per kill
            // (a refresher that kept redeeming its old token, never storing the new one, would exceed this).
            let bound = Self.cycles * min(32, grantIDs.count)
            #expect(retried <= bound, "\(retried) retried redemptions for \(Self.cycles) kills (at most \(bound))")
        }
    }

    /// Seeds the state directory: for each tenant, one active account per service, each holding
    /// `grantsPerAccount` delegated Graph grants consented one by one (each its own refresh-token chain).
    static func seed(_ sandbox: DaemonSandbox, emulator: M365Emulator, url: URL, tenants: [TenantInfo]) async throws -> [Int64] {
        try FileManager.default.createDirectory(atPath: sandbox.stateDirectory, withIntermediateDirectories: true)
        try sandbox.writeKey(key)
        let base = url.absoluteString
        // Redirects not followed: the authorize answer's Location carries the code.
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            let grantIDs = try await seed(sandbox, emulator: emulator, base: base, tenants: tenants, http: http)
            try await http.shutdown()
            return grantIDs
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    static func seed(_ sandbox: DaemonSandbox, emulator: M365Emulator, base: String, tenants: [TenantInfo], http: HTTPClient) async throws -> [Int64] {
        let identity = try IdentityPlatformClient(
            httpClient: http, endpoints: MicrosoftEndpoints(authority: base, graph: base, outlook: base + "/outlook"),
            logger: Logger(label: "test")
        )
        let app = OAuthClientCredentials(clientID: emulator.configuration.clientID, clientSecret: Secret(emulator.configuration.clientSecret))
        let resource = "https://graph.microsoft.com/.default"
        let scopes = MicrosoftTokenGranter.delegatedScopes(resource)
        let store = try SQLiteStore(path: sandbox.databasePath, sealer: SecretSealer(keyBytes: key), logger: Logger(label: "test"))
        var grantIDs: [Int64] = []
        for tenant in tenants {
            _ = try await store.upsertTenant(id: tenant.id, domain: tenant.domain, displayName: tenant.displayName)
            for service in services {
                let account = try await store.createAccount(tenantID: tenant.id, service: service, appID: nil, licensingModel: nil)
                for index in 0..<grantsPerAccount {
                    let grant = try await store.addGrant(accountID: account.id, name: "graph-\(index)", resource: resource, flow: .delegated)
                    let tokens = try await consent(identity, http: http, tenant: tenant.id, app: app, scopes: scopes)
                    try await store.storeTokenSet(grantID: grant.id, tokens: tokens, nextRefreshAt: tokens.expiresAt.addingTimeInterval(-1))
                    grantIDs.append(grant.id)
                }
                try await store.setAccountState(id: account.id, state: .active, provisioningStep: nil, provisioningError: nil)
            }
        }
        try store.close()
        return grantIDs
    }

    /// One administrator consent with the authorization-code flow and PKCE.
    static func consent(_ identity: IdentityPlatformClient, http: HTTPClient, tenant: String, app: OAuthClientCredentials, scopes: [String]) async throws -> TokenSet {
        let pkce = PKCE()
        let redirect = "http://127.0.0.1:9/callback"
        let url = identity.authorizationURL(tenant: tenant, clientID: app.clientID, redirectURI: redirect, scopes: scopes, state: "s", pkce: pkce)
        let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let location = try #require(response.headers.first(name: "Location"), "the emulator did not redirect (HTTP \(response.status.code))")
        let code = try #require(URLComponents(string: location)?.queryItems?.first(where: { $0.name == "code" })?.value)
        return try await identity.redeemAuthorizationCode(
            tenant: tenant, client: app, code: Secret(code), redirectURI: redirect, pkce: pkce, scopes: scopes
        )
    }

    /// Each grant's token-set generation, read without the daemon's key (a second reader of the WAL database).
    static func generations(_ sandbox: DaemonSandbox, grantIDs: [Int64]) async throws -> [Int64: Int] {
        let queue = try DatabaseQueue(path: sandbox.databasePath)
        defer { try? queue.close() }
        let rows = try await queue.read { db in
            try Row.fetchAll(db, sql: "SELECT grant_id, generation FROM token_sets").map { ($0["grant_id"] as Int64, $0["generation"] as Int) }
        }
        return Dictionary(rows, uniquingKeysWith: { $1 })
    }
}
