import Credentials
import Foundation
import Logging
@testable import TenantSyncStore
import TenantSyncCore

/// A fresh SQLite store in a temporary directory.
struct StoreFixture {
    static let key: [UInt8] = (0..<32).map { UInt8($0 * 7 % 251) }

    let directory: TemporaryDirectory
    let store: SQLiteStore

    init() throws {
        directory = try TemporaryDirectory()
        store = try SQLiteStore(path: directory.file(SQLiteStore.fileName), sealer: SecretSealer(keyBytes: Self.key), logger: Logger(label: "test"))
    }

    var databasePath: String { directory.file(SQLiteStore.fileName) }

    /// A tenant with one Exchange Online account and its two grants.
    func seedExchangeAccount(domain: String = "contoso.com") async throws -> (Tenant, ServiceAccount, Grant, Grant) {
        let tenant = try await store.upsertTenant(id: UUID().uuidString, domain: domain, displayName: "Contoso")
        let account = try await store.createAccount(tenantID: tenant.id, service: .exchangeOnline, appID: nil, licensingModel: nil)
        let ews = try await store.addGrant(accountID: account.id, name: "ews", resource: "https://outlook.office365.com/.default", flow: .delegated)
        let graph = try await store.addGrant(accountID: account.id, name: "graph", resource: "https://graph.microsoft.com/.default", flow: .delegated)
        return (tenant, account, ews, graph)
    }
}
