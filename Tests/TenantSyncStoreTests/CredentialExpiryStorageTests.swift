import Credentials
import Foundation
import GRDB
import Logging
import Migrations
import Testing
@testable import TenantSyncStore
import TenantSyncCore

@Suite("Credential expiries in the store")
struct CredentialExpiryStorageTests {
    static let tenant = "00000000-0000-0000-0000-000000000001"

    @Test("Migration 0008 carries over the Teams app secret expiries stored before it")
    func migrationCarriesOverSecretExpiries() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("db.sqlite")
        let pool = try DatabasePool(path: path)
        var migrator = SchemaMigrator(pool: pool, path: path, logger: Logger(label: "test"))
        migrator.migrations = Array(SchemaMigrations.all.prefix(7))
        try migrator.migrate()
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO tenants (id, domain, created_at, updated_at)
                VALUES ('\(Self.tenant)', 'old.example', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
                INSERT INTO service_accounts (tenant_id, service, app_id, client_secret_expires_at, created_at, updated_at)
                VALUES ('\(Self.tenant)', 'teams-chat', 'app-1', '2027-06-30T00:00:00.000Z', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'),
                       ('\(Self.tenant)', 'onedrive', NULL, NULL, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z');
                """)
        }
        try pool.close()
        let store = try SQLiteStore(path: path, sealer: SecretSealer(keyBytes: StoreFixture.key), logger: Logger(label: "test"))
        let expiries = try await store.credentialExpiries()
        #expect(expiries.count == 1)
        #expect(expiries.first?.credential == "account:1" && expiries.first?.accountID == 1 && expiries.first?.kind == .secret)
        #expect(expiries.first?.expiresAt == Date(timeIntervalSince1970: 1_814_313_600))
    }
}
