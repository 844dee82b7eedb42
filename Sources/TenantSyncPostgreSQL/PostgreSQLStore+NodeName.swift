import PostgresNIO
import TenantSyncCore

extension PostgreSQLStore {
    /// The first key of the session advisory lock a node holds on its name (the bytes of "tsnd"); the second is the
    /// name's `hashtext`.
    static let nodeNameLockKey: Int32 = 0x7473_6E64

    /// Makes `name` this daemon's until ``close()``: a second daemon with the same `[daemon] node_name` on the
    /// database is refused.
    ///
    /// Every lease names its holder by node name, and `tenantsyncctl nodes` lists nodes by it: two daemons under one
    /// name would look like one node. The lock is a session advisory lock on a connection of its own, so it ends with
    /// this process (or its connection) and never outlives a dead daemon: a node restarted at once takes its name back.
    ///
    /// - Throws: `TenantSyncError` `storeUnavailable` with reason `locked` when another daemon holds the name.
    public func claimNodeName(_ name: String) async throws {
        let connection = try await connectOnce()
        let held: Bool
        do {
            held = try await Self.one(
                connection.query("SELECT pg_try_advisory_lock(\(Self.nodeNameLockKey), hashtext(\(name)))", logger: logger), Bool.self
            ) ?? false
        } catch {
            try? await connection.close()
            throw Self.unreachable(settings, cause: PostgreSQLErrorText.describe(error))
        }
        guard held else {
            try? await connection.close()
            throw TenantSyncError(
                .storeUnavailable,
                "Another tenantsyncd with node name \(name) already works on database \(settings.database) at \(settings.endpoint); give each node its own [daemon] node_name.",
                context: ["reason": "locked", "store.endpoint": settings.endpoint, "node.name": name]
            )
        }
        state.keepNodeNameConnection(connection)
    }
}
