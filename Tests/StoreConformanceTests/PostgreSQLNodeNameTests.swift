import Credentials
import Foundation
import Logging
import TenantSyncCore
@testable import TenantSyncPostgreSQL
import TestSupport
import Testing

/// One daemon per node name on a database: a second daemon with the same name is refused, one with another name is
/// not, and the name is free again once the first one closes (or its session ends).
@Suite("PostgreSQL node names")
struct PostgreSQLNodeNameTests {
    @Test func aSecondDaemonWithTheSameNameIsRefusedUntilTheFirstCloses() async throws {
        let server = try await PostgreSQLServer.shared()
        let database = try await server.createDatabase()
        let starts = PostgreSQLPrepareTests()
        try await starts.withStore(server.settings(database: database)) { first in
            try await first.prepare()
            try await first.claimNodeName("node-a")
            try await starts.withStore(server.settings(database: database)) { second in
                try await second.prepare()
                let refused = await #expect(throws: TenantSyncError.self) { try await second.claimNodeName("node-a") }
                #expect(refused?.code == .storeUnavailable && refused?.context["reason"] == "locked", "\(String(describing: refused))")
                #expect(refused?.message.contains("node name node-a") == true)
                // Another name works on the same database at the same time.
                try await second.claimNodeName("node-b")
            }
            try await first.close()
            // The first daemon's session ended with close(): a new one takes the name.
            try await starts.withStore(server.settings(database: database)) { third in
                try await third.prepare()
                try await third.claimNodeName("node-a")
            }
        }
    }
}
