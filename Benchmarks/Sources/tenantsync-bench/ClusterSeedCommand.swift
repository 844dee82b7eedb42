import AsyncHTTPClient
import Credentials
import Foundation
import Logging
import MicrosoftCloud
import NIOCore
import NIOFoundationCompat
import Synchronization
import TenantSyncConfig
import TenantSyncCore
import TenantSyncDaemon
import TenantSyncStore

/// `tenantsync-bench cluster-seed`: the cluster benchmark's state in a daemon's SQLite state directory.
///
/// N tenants of the running emulator (its first N, by its listing), each with a SharePoint Online account and an
/// Exchange Online account, and M delegated Graph grants spread over the tenants' accounts in turn; every grant
/// consented with its own authorization-code flow (PKCE) against the emulator, so each holds a refresh token the
/// emulator really redeems. Written through the store's own methods (rows, sealing, constraints). Tokens are next
/// refreshed ten minutes before they expire (an hour or more away): the benchmark decides when they fall due.
///
/// The tokens live in the emulator's memory, so the state is only good with the emulator it was seeded against.
enum ClusterSeedCommand {
    struct Result: Encodable {
        var tenants: Int
        var accounts: Int
        var grants: Int
        var tokenSets: Int
        var seedSeconds: Double
        /// Time spent in consents, summed over the concurrent tasks.
        var consentSeconds: Double
        var databaseBytes: Int
        var peakRSSKiB: Int
    }

    /// The services each tenant gets an account for; grants go to them in turn.
    static let services: [ServiceKind] = [.sharepointOnline, .exchangeOnline]

    static func run(_ arguments: Arguments) async throws {
        let configPath = try arguments.value("--config")
        let base = try arguments.value("--url")
        guard let tenantCount = Int(try arguments.value("--tenants")), tenantCount > 0 else { throw BenchError("--tenants must be a positive number") }
        guard let grantCount = Int(try arguments.value("--grants")), grantCount >= tenantCount else {
            throw BenchError("--grants must be a number of at least --tenants")
        }
        let concurrency = Int(arguments.optional("--concurrency") ?? "16") ?? 16
        var logger = Logger(label: "tenantsync-bench")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning

        let configuration = try ConfigurationLoader(environment: [:]).load(path: configPath)
        let directory = configuration.daemon.stateDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let keyBytes = try SecretKeyFile.loadOrCreate(path: configuration.daemon.keyFile, mayCreate: true)
        let databasePath = directory + "/" + SQLiteStore.fileName
        let store = try SQLiteStore(path: databasePath, sealer: SecretSealer(keyBytes: keyBytes), logger: logger)

        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        do {
            let result = try await seed(
                store: store, http: http, base: base, tenantCount: tenantCount, grantCount: grantCount, concurrency: concurrency,
                configuration: configuration, logger: logger
            )
            try store.close()
            try await http.shutdown()
            var finished = result
            finished.databaseBytes = (try? FileManager.default.attributesOfItem(atPath: databasePath)[.size] as? Int) ?? -1
            finished.peakRSSKiB = ProcessMeasure.peakRSSKiB()
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(finished), as: UTF8.self))
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    static func seed(
        store: SQLiteStore, http: HTTPClient, base: String, tenantCount: Int, grantCount: Int, concurrency: Int,
        configuration: DaemonConfiguration, logger: Logger
    ) async throws -> Result {
        let clock = ContinuousClock()
        let started = clock.now
        let tenants = try await emulatorTenants(base: base, http: http)
        guard tenants.count >= tenantCount else {
            throw BenchError("the emulator has \(tenants.count) tenants, \(tenantCount) asked for (start it with --tenants \(tenantCount))")
        }
        let chosen = Array(tenants.prefix(tenantCount))

        let client = try IdentityPlatformClient(
            httpClient: http, endpoints: MicrosoftEndpoints(authority: base, graph: base, outlook: base + "/outlook"), logger: logger
        )
        guard let secret = configuration.microsoft.clientSecret else { throw BenchError("the configuration names no client secret") }
        let productApp = OAuthClientCredentials(clientID: configuration.microsoft.clientID, clientSecret: secret)
        let resource = "https://graph.microsoft.com/.default"
        let scopes = MicrosoftTokenGranter.delegatedScopes(resource)
        let margin = configuration.tokens.refreshMargin.secondsValue

        // Tenant by tenant, `concurrency` tenants at once: its rows, then each of its grants consented on its own (its
        // own refresh-token chain at the emulator) and stored. Grant i belongs to tenant i mod N, to its accounts in turn.
        let tally = SeedTally()
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func add() {
                guard next < chosen.count else { return }
                let index = next
                let tenant = chosen[index]
                next += 1
                group.addTask {
                    _ = try await store.upsertTenant(id: tenant.id, domain: tenant.domain, displayName: tenant.displayName)
                    try await store.setSyncScope(tenantID: tenant.id, scope: .all)
                    var accounts: [Int64] = []
                    for service in services {
                        accounts.append(try await store.createAccount(tenantID: tenant.id, service: service, appID: nil, licensingModel: nil).id)
                    }
                    for round in 0..<(grantCount - index + tenantCount - 1) / tenantCount {
                        let grant = try await store.addGrant(
                            accountID: accounts[round % accounts.count], name: "graph-\(round)", resource: resource, flow: .delegated
                        )
                        let began = ContinuousClock.now
                        let tokens = try await TokensCommand.consent(client: client, http: http, tenant: tenant.id, app: productApp, scopes: scopes)
                        tally.consented(ContinuousClock.now - began)
                        try await store.storeTokenSet(grantID: grant.id, tokens: tokens, nextRefreshAt: tokens.expiresAt.addingTimeInterval(-margin))
                    }
                    for account in accounts {
                        try await store.setAccountState(id: account, state: .active, provisioningStep: nil, provisioningError: nil)
                    }
                    tally.tenantDone(accounts: accounts.count)
                }
            }
            for _ in 0..<max(1, concurrency) { add() }
            while try await group.next() != nil { add() }
        }
        let counts = tally.counts
        return Result(
            tenants: counts.tenants, accounts: counts.accounts, grants: counts.grants, tokenSets: counts.grants,
            seedSeconds: (clock.now - started).seconds, consentSeconds: counts.consent.seconds, databaseBytes: 0, peakRSSKiB: 0
        )
    }

    /// What the seeding tasks wrote, and the time their consents took (summed over the concurrent tasks).
    final class SeedTally: Sendable {
        struct Counts { var tenants = 0, accounts = 0, grants = 0, consent = Duration.zero }
        private let state = Mutex(Counts())

        func consented(_ duration: Duration) {
            state.withLock { $0.grants += 1; $0.consent += duration }
        }

        func tenantDone(accounts: Int) {
            state.withLock { $0.tenants += 1; $0.accounts += accounts }
        }

        var counts: Counts { state.withLock { $0 } }
    }

    struct EmulatorTenant: Decodable {
        var id: String
        var domain: String
        var displayName: String?
    }

    static func emulatorTenants(base: String, http: HTTPClient) async throws -> [EmulatorTenant] {
        let response = try await http.execute(HTTPClientRequest(url: base + "/_emulator/tenants"), timeout: .seconds(120))
        let body = try await response.body.collect(upTo: 1 << 30)
        guard response.status == .ok else { throw BenchError("GET /_emulator/tenants answered \(response.status.code)") }
        return try JSONDecoder().decode([EmulatorTenant].self, from: Data(buffer: body))
    }
}
