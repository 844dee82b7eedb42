import Credentials
import AsyncHTTPClient
import Foundation
import Logging
import MicrosoftCloud
import TenantSyncStore

/// A throw-away store holding one tenant (`contoso.com`) and the daemon's kind of HTTP client, for tests that
/// point the daemon's Graph code at a scripted server; the directory is removed and the client shut down
/// however `body` ends.
enum ContosoStore {
    static func with<T>(tenantID: String, _ body: (SQLiteStore, HTTPClient) async throws -> T) async throws -> T {
        let directory = NSTemporaryDirectory() + "tenantsync-contoso-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try SQLiteStore(
            path: directory + "/tenantsync.sqlite", sealer: SecretSealer(keyBytes: Array(repeating: 5, count: 32)), logger: Logger(label: "test")
        )
        try await store.upsertTenant(id: tenantID, domain: "contoso.com", displayName: "Contoso")
        let http = MicrosoftHTTPClient.make()
        let result: Result<T, any Error>
        do {
            result = .success(try await body(store, http))
        } catch {
            result = .failure(error)
        }
        try await http.shutdown()
        try store.close()
        return try result.get()
    }
}
