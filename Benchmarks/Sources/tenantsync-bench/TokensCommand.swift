import Credentials
import AsyncHTTPClient
import Foundation
import Logging
import MicrosoftCloud
import NIOCore
import NIOFoundationCompat
import TenantSyncCore
import TenantSyncDaemon
import TenantSyncStore

/// `tenantsync-bench tokens`: N delegated grants all due at once, refreshed by the real
/// `TokenRefresher` against the emulator; then the refresher's idle CPU with those grants.
///
/// Setup (not measured): one account of the emulator's first tenant holds N Graph grants, each
/// consented with its own authorization-code flow (PKCE) so every grant has its own refresh token,
/// stored as due now. Measured: the time until every grant was refreshed (refreshes/s), the most
/// refreshes in flight (the refresher's own count and a 1 ms sampler), then CPU time of this whole
/// process over `--idle-seconds` while the refresher runs with nothing due.
enum TokensCommand {
    struct Result: Encodable {
        var grants: Int
        var maxInFlightBound: Int
        var seconds: Double
        var refreshesPerSecond: Double
        var peakInFlight: Int
        var sampledPeakInFlight: Int
        var emulatorRefreshRequests: Int
        var idleSeconds: Double
        var idleCPUSeconds: Double
        var idleCPUPercent: Double
        var refreshesDuringIdle: Int
        var peakRSSKiB: Int
        var setupSeconds: Double
    }

    static func run(_ arguments: Arguments) async throws {
        let base = try arguments.value("--url")
        let grantCount = Int(arguments.optional("--grants") ?? "10000") ?? 10000
        let idleSeconds = Int(arguments.optional("--idle-seconds") ?? "60") ?? 60
        let bound = Int(arguments.optional("--max-in-flight") ?? "32") ?? 32
        let directory = try arguments.value("--dir")

        var logger = Logger(label: "tenantsync-bench")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        var httpConfiguration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        // Env knob while investigating: AsyncHTTPClient's default is 8 connections per host.
        if let limit = ProcessInfo.processInfo.environment["BENCH_POOL"].flatMap(Int.init) {
            httpConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: limit)
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
        do {
            try await measure(arguments: arguments, base: base, grantCount: grantCount, idleSeconds: idleSeconds, bound: bound,
                              directory: directory, http: http, logger: logger)
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    static func measure(
        arguments: Arguments, base: String, grantCount: Int, idleSeconds: Int, bound: Int, directory: String, http: HTTPClient, logger: Logger
    ) async throws {
        // The daemon's own state-directory layout (database and key file), so a real tenantsyncd can be started
        // on these grants afterwards and its idle CPU measured (bench.py does that).
        let keyBytes = try SecretKeyFile.loadOrCreate(path: directory + "/tenantsync.key", mayCreate: true)
        let store = try SQLiteStore(path: directory + "/" + SQLiteStore.fileName, sealer: SecretSealer(keyBytes: keyBytes), logger: logger)
        let client = try IdentityPlatformClient(
            httpClient: http, endpoints: MicrosoftEndpoints(authority: base, graph: base, outlook: base + "/outlook"), logger: logger
        )
        let productApp = OAuthClientCredentials(
            clientID: arguments.optional("--client-id") ?? "5f1e2c3a-7b4d-4e8f-9a0b-1c2d3e4f5a6b",
            clientSecret: Secret(arguments.optional("--client-secret") ?? "emulator-client-secret")
        )

        // Setup: the tenant, one account, N grants with their own consented token sets, all due now.
        let setupStart = ContinuousClock.now
        let tenantID = try await firstTenant(base: base, http: http)
        _ = try await store.upsertTenant(id: tenantID, domain: tenantID, displayName: "benchmark")
        let account = try await store.createAccount(tenantID: tenantID, service: .sharepointOnline, appID: nil, licensingModel: nil)
        let resource = "https://graph.microsoft.com/.default"
        let scopes = MicrosoftTokenGranter.delegatedScopes(resource)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func add() {
                guard next < grantCount else { return }
                let index = next
                next += 1
                group.addTask {
                    let grant = try await store.addGrant(accountID: account.id, name: "graph-\(index)", resource: resource, flow: .delegated)
                    let tokens = try await consent(client: client, http: http, tenant: tenantID, app: productApp, scopes: scopes)
                    try await store.storeTokenSet(grantID: grant.id, tokens: tokens, nextRefreshAt: Date().addingTimeInterval(-1))
                }
            }
            for _ in 0..<16 { add() }
            while try await group.next() != nil { add() }
        }
        try await store.setAccountState(id: account.id, state: .active, provisioningStep: nil, provisioningError: nil)
        let setupSeconds = (ContinuousClock.now - setupStart).seconds
        let refreshesBefore = try await counter(base: base, http: http, tenant: tenantID, name: "token.refresh_token")

        let refresher = TokenRefresher(
            storage: store, granter: MicrosoftTokenGranter(client: client, productApp: productApp, accounts: store),
            configuration: TokenRefresherConfiguration(maxInFlight: bound), logger: logger
        )
        let result = try await withThrowingTaskGroup(of: Void.self) { group -> Result in
            let started = ContinuousClock.now
            group.addTask { try await refresher.run() }
            var sampledPeak = 0
            let deadline = started + .seconds(600)
            while refresher.completedCount < grantCount {
                sampledPeak = max(sampledPeak, refresher.inFlightCount)
                guard ContinuousClock.now < deadline else { throw BenchError("refreshes did not finish in 600 s") }
                try await Task.sleep(for: .milliseconds(1))
            }
            let seconds = (ContinuousClock.now - started).seconds
            let refreshes = try await counter(base: base, http: http, tenant: tenantID, name: "token.refresh_token") - refreshesBefore

            // Idle: nothing is due for an hour; the refresher sleeps until then (at most maxSleep at a time).
            let completedBefore = refresher.completedCount
            let cpuBefore = ProcessMeasure.cpuSeconds()
            let idleStart = ContinuousClock.now
            try await Task.sleep(for: .seconds(idleSeconds))
            let idleCPU = ProcessMeasure.cpuSeconds() - cpuBefore
            let idleElapsed = (ContinuousClock.now - idleStart).seconds
            group.cancelAll()
            return Result(
                grants: grantCount, maxInFlightBound: bound, seconds: seconds, refreshesPerSecond: Double(grantCount) / seconds,
                peakInFlight: refresher.peakInFlight, sampledPeakInFlight: sampledPeak, emulatorRefreshRequests: refreshes,
                idleSeconds: idleElapsed, idleCPUSeconds: idleCPU, idleCPUPercent: idleCPU / idleElapsed * 100,
                refreshesDuringIdle: refresher.completedCount - completedBefore, peakRSSKiB: ProcessMeasure.peakRSSKiB(),
                setupSeconds: setupSeconds
            )
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
        try store.close()
    }

    /// One administrator consent with the authorization-code flow and PKCE.
    static func consent(
        client: IdentityPlatformClient, http: HTTPClient, tenant: String, app: OAuthClientCredentials, scopes: [String]
    ) async throws -> TokenSet {
        let pkce = PKCE()
        let redirect = "http://127.0.0.1:9/callback"
        let url = client.authorizationURL(tenant: tenant, clientID: app.clientID, redirectURI: redirect, scopes: scopes, state: "b", pkce: pkce)
        let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        guard response.status.code == 302, let location = response.headers.first(name: "Location"),
              let code = URLComponents(string: location)?.queryItems?.first(where: { $0.name == "code" })?.value
        else { throw BenchError("the emulator did not redirect with a code (HTTP \(response.status.code))") }
        return try await client.redeemAuthorizationCode(
            tenant: tenant, client: app, code: Secret(code), redirectURI: redirect, pkce: pkce, scopes: scopes
        )
    }

    static func firstTenant(base: String, http: HTTPClient) async throws -> String {
        let response = try await http.execute(HTTPClientRequest(url: base + "/_emulator/tenants"), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 << 20)
        struct Tenant: Decodable { var id: String }
        guard let first = try JSONDecoder().decode([Tenant].self, from: Data(buffer: body)).first else { throw BenchError("no tenant") }
        return first.id
    }

    static func counter(base: String, http: HTTPClient, tenant: String, name: String) async throws -> Int {
        let response = try await http.execute(HTTPClientRequest(url: base + "/_emulator/tenants/\(tenant)/counters"), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        let counters = try JSONDecoder().decode([String: Int].self, from: Data(buffer: body))
        return counters[name] ?? 0
    }
}
