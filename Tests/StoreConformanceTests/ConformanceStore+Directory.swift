import TenantSyncCore
import TenantSyncPostgreSQL
import TenantSyncStore

/// The directory's inspection reads, which both stores have outside the protocols.
extension ConformanceStore {
    func directoryUsers(tenantID: String) async throws -> [DirectoryUser] {
        switch raw {
        case .sqlite(let store): try await store.directoryUsers(tenantID: tenantID)
        case .postgresql: try await postgreSQLStore.directoryUsers(tenantID: tenantID)
        }
    }

    func directoryGroups(tenantID: String) async throws -> [DirectoryGroup] {
        switch raw {
        case .sqlite(let store): try await store.directoryGroups(tenantID: tenantID)
        case .postgresql: try await postgreSQLStore.directoryGroups(tenantID: tenantID)
        }
    }

    func groupMemberships(tenantID: String) async throws -> [GroupMembership] {
        switch raw {
        case .sqlite(let store): try await store.groupMemberships(tenantID: tenantID)
        case .postgresql: try await postgreSQLStore.groupMemberships(tenantID: tenantID)
        }
    }

    /// The PostgreSQL case is always made with a PostgreSQLStore (StoreKind.withStore).
    var postgreSQLStore: PostgreSQLStore { store as! PostgreSQLStore }
}
