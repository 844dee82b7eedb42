import GRDB
import GRDBSQLite
import TenantSyncCore

/// Writes one directory batch's rows through statements bound with the SQLite C API.
///
/// A full sync writes tens of thousands of rows per transaction. GRDB's `StatementArguments`
/// path builds an argument array of boxed values and notifies its observers for every row, which
/// cost more CPU than SQLite's own insert. Here each row's strings are copied into one reusable
/// byte buffer and bound without further copies (`SQLITE_STATIC`); the buffer is left untouched
/// until the statement has been stepped, reset and its bindings cleared.
///
/// The statements are this writer's own (not GRDB's statement cache), prepared for one batch and
/// finalized when it goes away. Only directory tables are written here; GRDB's observation of the
/// alert outbox is unaffected.
struct DirectoryRowWriter: ~Copyable {
    /// One prepared statement and its SQL (for errors).
    private struct Prepared {
        let handle: OpaquePointer
        let sql: String
    }

    private enum Slot {
        case text(offset: Int, count: Int)
        case null
        case integer(Int64)
    }

    /// The statements, by index into ``prepared``.
    private enum Kind: Int, CaseIterable {
        case insertUser, updateUser, insertGroup, updateGroup, insertMembership, insertMembershipChunk, removeMembership, memberIDs

        var sql: String {
            switch self {
            case .insertUser: DirectoryRowWriter.insertUserSQL
            case .updateUser: DirectoryRowWriter.updateUserSQL
            case .insertGroup: DirectoryRowWriter.insertGroupSQL
            case .updateGroup: DirectoryRowWriter.updateGroupSQL
            case .insertMembership: DirectoryRowWriter.insertMembershipSQL
            case .insertMembershipChunk: DirectoryRowWriter.insertMembershipChunkSQL
            case .removeMembership: DirectoryRowWriter.removeMembershipSQL
            case .memberIDs: DirectoryRowWriter.memberIDsSQL
            }
        }
    }

    private static let insertUserSQL = """
        INSERT OR IGNORE INTO directory_users
            (tenant_id, id, user_principal_name, display_name, mail, account_enabled, synced_at, first_synced_at)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
        """
    private static let updateUserSQL = """
        UPDATE directory_users SET user_principal_name = ?3, display_name = ?4, mail = ?5,
            account_enabled = ?6, synced_at = ?7
        WHERE tenant_id = ?1 AND id = ?2 AND (user_principal_name IS NOT ?3 OR display_name IS NOT ?4
            OR mail IS NOT ?5 OR account_enabled IS NOT ?6)
        """
    private static let insertGroupSQL = """
        INSERT OR IGNORE INTO directory_groups (tenant_id, id, display_name, mail, synced_at) VALUES (?1, ?2, ?3, ?4, ?5)
        """
    private static let updateGroupSQL = """
        UPDATE directory_groups SET display_name = ?3, mail = ?4, synced_at = ?5
        WHERE tenant_id = ?1 AND id = ?2 AND (display_name IS NOT ?3 OR mail IS NOT ?4)
        """
    private static let insertMembershipSQL = """
        INSERT OR IGNORE INTO group_members (tenant_id, group_id, member_id, member_type) VALUES (?1, ?2, ?3, ?4)
        """
    /// Memberships inserted by one statement: one statement's fixed cost (cursors, program start and
    /// end) for several rows. 8 rows: most of the gain of larger chunks (replaying a 20k sync's
    /// 60,000 memberships with the system SQLite: about a quarter less CPU), few rows left over.
    static let membershipChunk = 8
    private static let insertMembershipChunkSQL =
        "INSERT OR IGNORE INTO group_members (tenant_id, group_id, member_id, member_type) VALUES "
        + Array(repeating: "(?, ?, ?, ?)", count: membershipChunk).joined(separator: ", ")
    private static let removeMembershipSQL = "DELETE FROM group_members WHERE tenant_id = ?1 AND group_id = ?2 AND member_id = ?3"
    private static let memberIDsSQL = "SELECT member_id FROM group_members WHERE tenant_id = ?1 AND group_id = ?2"

    private let connection: OpaquePointer
    private let tenantID: String
    private let syncedAt: String
    /// Statements prepared on first use, by ``Kind``.
    private var prepared = [Prepared?](repeating: nil, count: Kind.allCases.count)
    /// The current row's text values, back to back.
    private var scratch: [UInt8] = []
    private var slots: [Slot] = []

    /// A writer for `db`'s current transaction; `syncedAt` is the rows' `synced_at`.
    init(_ db: Database, tenantID: String, syncedAt: String) throws {
        guard let connection = db.sqliteConnection else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the database connection is closed")
        }
        self.connection = connection
        self.tenantID = tenantID
        self.syncedAt = syncedAt
        scratch.reserveCapacity(1024)
        slots.reserveCapacity(8)
    }

    deinit {
        for case let statement? in prepared { sqlite3_finalize(statement.handle) }
    }

    // MARK: Rows

    /// Inserts the user if its id is new; returns whether it did.
    mutating func insertUser(_ user: DirectoryUser) throws -> Bool {
        bindUser(user)
        return try step(.insertUser) == 1
    }

    /// Updates the user where any field differs; returns the rows changed (0 or 1).
    mutating func updateUser(_ user: DirectoryUser) throws -> Int {
        bindUser(user)
        return try step(.updateUser)
    }

    /// Inserts the group if its id is new; returns whether it did.
    mutating func insertGroup(id: String, displayName: String?, mail: String?) throws -> Bool {
        bindGroup(id: id, displayName: displayName, mail: mail)
        return try step(.insertGroup) == 1
    }

    /// Updates the group where any field differs; returns the rows changed (0 or 1).
    mutating func updateGroup(id: String, displayName: String?, mail: String?) throws -> Int {
        bindGroup(id: id, displayName: displayName, mail: mail)
        return try step(.updateGroup)
    }

    /// Inserts one membership unless present; returns the rows added (0 or 1).
    mutating func insertMembership(groupID: String, memberID: String, memberType: String) throws -> Int {
        text(tenantID)
        text(groupID)
        text(memberID)
        text(memberType)
        return try step(.insertMembership)
    }

    /// Inserts the memberships of one group that are not present yet; returns the rows added.
    mutating func insertMemberships(groupID: String, _ memberships: some Collection<GroupMembership>) throws -> Int {
        var added = 0
        var rest = memberships[...]
        while rest.count >= Self.membershipChunk {
            for membership in rest.prefix(Self.membershipChunk) {
                text(tenantID)
                text(groupID)
                text(membership.memberID)
                text(membership.memberType.rawValue)
            }
            added += try step(.insertMembershipChunk)
            rest = rest.dropFirst(Self.membershipChunk)
        }
        for membership in rest {
            added += try insertMembership(groupID: groupID, memberID: membership.memberID, memberType: membership.memberType.rawValue)
        }
        return added
    }

    /// Removes one membership; returns the rows removed (0 or 1).
    mutating func removeMembership(groupID: String, memberID: String) throws -> Int {
        text(tenantID)
        text(groupID)
        text(memberID)
        return try step(.removeMembership)
    }

    /// The stored member ids of a group (empty, without allocating, for a group not stored yet).
    mutating func memberIDs(ofGroup groupID: String) throws -> [String] {
        text(tenantID)
        text(groupID)
        var ids: [String] = []
        try step(.memberIDs) { statement in
            let count = Int(sqlite3_column_bytes(statement, 0))
            guard let text = sqlite3_column_text(statement, 0) else {
                ids.append("")
                return
            }
            ids.append(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        }
        return ids
    }

    // MARK: Binding

    private mutating func bindUser(_ user: DirectoryUser) {
        text(tenantID)
        text(user.id)
        text(user.userPrincipalName)
        text(user.displayName)
        text(user.mail)
        slots.append(.integer(user.accountEnabled ? 1 : 0))
        text(syncedAt)
    }

    private mutating func bindGroup(id: String, displayName: String?, mail: String?) {
        text(tenantID)
        text(id)
        text(displayName)
        text(mail)
        text(syncedAt)
    }

    private mutating func text(_ value: String?) {
        guard let value else {
            slots.append(.null)
            return
        }
        let offset = scratch.count
        scratch.append(contentsOf: value.utf8)
        slots.append(.text(offset: offset, count: scratch.count - offset))
    }

    /// Binds the slots, steps `sql`'s statement to the end (calling `row` for each row) and returns
    /// `sqlite3_changes`; the statement is reset and its bindings cleared whatever happens.
    @discardableResult
    private mutating func step(_ kind: Kind, row: (OpaquePointer) throws -> Void = { _ in }) throws -> Int {
        let statement = try statement(kind)
        defer {
            scratch.removeAll(keepingCapacity: true)
            slots.removeAll(keepingCapacity: true)
        }
        let connection = connection
        let slots = slots
        return try scratch.withUnsafeBufferPointer { buffer throws -> Int in
            defer {
                sqlite3_reset(statement.handle)
                sqlite3_clear_bindings(statement.handle)
            }
            for (index, slot) in slots.enumerated() {
                let parameter = Int32(index + 1)
                let code: Int32
                switch slot {
                case .null:
                    code = sqlite3_bind_null(statement.handle, parameter)
                case .integer(let value):
                    code = sqlite3_bind_int64(statement.handle, parameter, value)
                case .text(let offset, let count):
                    // A zero-length text still needs a non-NULL pointer, or SQLite binds NULL.
                    let start = count == 0 ? Self.empty : UnsafeRawPointer(buffer.baseAddress! + offset)
                    code = sqlite3_bind_text(statement.handle, parameter, start.assumingMemoryBound(to: CChar.self), Int32(count), nil)
                }
                guard code == SQLITE_OK else { throw Self.error(code, connection, statement.sql) }
            }
            while true {
                let code = sqlite3_step(statement.handle)
                switch code {
                case SQLITE_DONE: return Int(sqlite3_changes(connection))
                case SQLITE_ROW: try row(statement.handle)
                default: throw Self.error(code, connection, statement.sql)
                }
            }
        }
    }

    private mutating func statement(_ kind: Kind) throws -> Prepared {
        if let statement = prepared[kind.rawValue] { return statement }
        let sql = kind.sql
        var handle: OpaquePointer?
        let code = sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
        guard code == SQLITE_OK, let handle else {
            if let handle { sqlite3_finalize(handle) }
            throw Self.error(code, connection, sql)
        }
        let statement = Prepared(handle: handle, sql: sql)
        prepared[kind.rawValue] = statement
        return statement
    }

    /// A valid pointer for zero-length text (the literal lives in the binary's read-only data).
    private static var empty: UnsafeRawPointer { UnsafeRawPointer(("" as StaticString).utf8Start) }

    private static func error(_ code: Int32, _ connection: OpaquePointer, _ sql: String) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
    }
}

