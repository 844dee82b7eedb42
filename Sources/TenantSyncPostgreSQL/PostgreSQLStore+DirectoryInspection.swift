import Foundation
import PostgresNIO
import TenantSyncCore

/// Inspection for tests and the benchmark, as the SQLite store has it: no service needs it, so it is not part of the
/// store protocols.
extension PostgreSQLStore {
    public func directoryUsers(tenantID: String) async throws -> [DirectoryUser] {
        try await read { connection in
            try await PostgreSQLRows.all(
                connection.query(
                    """
                    SELECT id, user_principal_name, display_name, mail, account_enabled FROM directory_users
                    WHERE tenant_id = \(tenantID) ORDER BY lower(user_principal_name) COLLATE "C"
                    """,
                    logger: logger
                ),
                Self.directoryUser
            )
        }
    }

    public func directoryGroups(tenantID: String) async throws -> [DirectoryGroup] {
        try await read { connection in
            try await PostgreSQLRows.all(
                connection.query(
                    """
                    SELECT id, display_name, mail FROM directory_groups WHERE tenant_id = \(tenantID)
                    ORDER BY display_name COLLATE "C" NULLS FIRST, id COLLATE "C"
                    """,
                    logger: logger
                )
            ) { cells in DirectoryGroup(id: try cells("id"), displayName: try cells("display_name"), mail: try cells("mail")) }
        }
    }

    public func groupMemberships(tenantID: String) async throws -> [GroupMembership] {
        try await read { connection in
            var memberships: [GroupMembership] = []
            let rows = try await connection.query(
                """
                SELECT group_id, member_id, member_type FROM group_members WHERE tenant_id = \(tenantID)
                ORDER BY group_id COLLATE "C", member_id COLLATE "C"
                """,
                logger: logger
            )
            for try await (group, member, type) in rows.decode((String, String, String).self) {
                memberships.append(GroupMembership(groupID: group, memberID: member, memberType: GroupMembership.MemberType(rawValue: type) ?? .other))
            }
            return memberships
        }
    }
}
