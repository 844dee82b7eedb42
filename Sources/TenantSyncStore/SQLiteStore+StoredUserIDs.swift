import GRDB
import TenantSyncCore

/// A delta run's check of the users it read as removed: rows in proportion to the removals, not to the directory.
extension SQLiteStore {
    public func storedUserIDs(tenantID: String, among ids: Set<String>) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let list = try Self.jsonArray(Array(ids))
        return try await pool.read { db in
            // One primary-key seek (tenant_id, id) per given id.
            Set(try String.fetchAll(
                db, sql: "SELECT u.id FROM json_each(?) j JOIN directory_users u ON u.tenant_id = ? AND u.id = j.value",
                arguments: [list, tenantID]
            ))
        }
    }
}
