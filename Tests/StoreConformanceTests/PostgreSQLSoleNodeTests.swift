import Credentials
import Foundation
import Logging
import TenantSyncCore
@testable import TenantSyncPostgreSQL
import TestSupport
import Testing

/// Until the services take the cluster's leases, one daemon per database: a second is refused, and the database is
/// free again once the first one closes (or its session ends).
@Suite("PostgreSQL sole node")
struct PostgreSQLSoleNodeTests {
    @Test func aSecondDaemonIsRefusedUntilTheFirstCloses() async throws {
        let server = try await PostgreSQLServer.shared()
        let database = try await server.createDatabase()
        let starts = PostgreSQLPrepareTests()
        try await starts.withStore(server.settings(database: database)) { first in
            try await first.prepare()
            try await first.claimSoleNode()
            try await starts.withStore(server.settings(database: database)) { second in
                try await second.prepare()
                let refused = await #expect(throws: TenantSyncError.self) { try await second.claimSoleNode() }
                #expect(refused?.code == .storeUnavailable && refused?.context["reason"] == "locked", "\(String(describing: refused))")
                #expect(refused?.message.contains("Another tenantsyncd") == true)
            }
            try await first.close()
            // The first daemon's session ended with close(): a new one takes the database.
            try await starts.withStore(server.settings(database: database)) { third in
                try await third.prepare()
                try await third.claimSoleNode()
            }
        }
    }
}
