import PostgresNIO
import TenantSyncCore

extension PostgreSQLStore {
    /// The session advisory lock a daemon holds while it is the database's only node (the bytes of "tssolnod").
    static let soleNodeLockKey: Int64 = 0x7473_736F_6C6E_6F64

    /// Makes this daemon the only one working on the database until ``close()``: a second daemon is refused.
    ///
    /// Several daemons on one database need the cluster's leases (each grant refreshed by one node, each tenant synced
    /// by one), which the services do not take yet; two daemons without them would both redeem the same refresh
    /// tokens. The lock is a session advisory lock on a connection of its own, so it ends with this process (or its
    /// connection) and never outlives a dead daemon.
    ///
    /// - Throws: `TenantSyncError` `storeUnavailable` with reason `locked` when another daemon holds the database.
    public func claimSoleNode() async throws {
        let connection = try await connectOnce()
        let held: Bool
        do {
            held = try await Self.one(connection.query("SELECT pg_try_advisory_lock(\(Self.soleNodeLockKey))", logger: logger), Bool.self) ?? false
        } catch {
            try? await connection.close()
            throw Self.unreachable(settings, cause: PostgreSQLErrorText.describe(error))
        }
        guard held else {
            try? await connection.close()
            throw TenantSyncError(
                .storeUnavailable,
                "Another tenantsyncd already works on database \(settings.database) at \(settings.endpoint); several daemons on one database are not supported yet: stop the other one first.",
                context: ["reason": "locked", "store.endpoint": settings.endpoint]
            )
        }
        state.keepSoleNodeConnection(connection)
    }
}
