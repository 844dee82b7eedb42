import Credentials
import AsyncHTTPClient
import Foundation
import Logging
import M365Emulator
import MicrosoftCloud
import TenantSyncCore
import TenantSyncDaemon
import TenantSyncStore
import Testing

/// A running emulator, a fresh store and a synchronizer pointed at both.
struct SyncFixture {
    let emulator: M365Emulator
    let url: URL
    let tenant: TenantInfo
    let store: SQLiteStore
    let tokens: EmulatorTokenSource
    let directory: String

    init(emulator: M365Emulator, url: URL) async throws {
        self.emulator = emulator
        self.url = url
        tenant = try #require(emulator.tenants().first)
        directory = NSTemporaryDirectory() + "tenantsync-sync-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        store = try SQLiteStore(
            path: directory + "/tenantsync.sqlite", sealer: SecretSealer(keyBytes: Array(repeating: 5, count: 32)),
            logger: Logger(label: "test")
        )
        try await store.upsertTenant(id: tenant.id, domain: tenant.domain, displayName: tenant.displayName)
        tokens = EmulatorTokenSource(baseURL: url, clientID: emulator.configuration.clientID, clientSecret: emulator.configuration.clientSecret)
    }

    func synchronizer(threshold: Double = 0.2, now: @escaping @Sendable () -> Date = { Date() }) -> DirectorySynchronizer {
        DirectorySynchronizer(
            store: store,
            graph: GraphClient(graphRoot: url.absoluteString, http: HTTPClient.shared, requestTimeout: .seconds(10), logger: Logger(label: "test")),
            tokens: tokens,
            settings: .init(massDeletionThreshold: threshold),
            now: now,
            logger: Logger(label: "test")
        )
    }

    /// The emulator's active users, by id.
    func emulatorUsers() throws -> [String: UserInfo] {
        Dictionary(uniqueKeysWithValues: try emulator.users(tenant: tenant.id, limit: 1_000_000).filter { $0.state == .active }.map { ($0.id, $0) })
    }

    func cleanUp() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `body` with an emulator of one tenant of the given size.
    static func with(users: Int = 300, groups: Int = 20, _ body: @Sendable (SyncFixture) async throws -> Void) async throws {
        var settings = TenantSettings()
        settings.throttlingEnabled = false
        let configuration = EmulatorConfiguration(tenants: 1, usersPerTenant: users, groupsPerTenant: groups, seed: 7, tenantSettings: settings)
        try await M365Emulator.withRunning(configuration: configuration, logger: Logger(label: "emulator")) { emulator, url in
            let fixture = try await SyncFixture(emulator: emulator, url: url)
            defer { fixture.cleanUp() }
            try await body(fixture)
        }
    }
}
