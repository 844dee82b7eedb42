import Foundation
import GRDB
import TenantSyncCore

/// The state read whole, table by table, for `tenantsyncd --migrate-to-postgresql` (``StoreTableSnapshot`` says the
/// form). Reads only: the daemon that could write holds the state directory's lock, which the copy takes first.
extension SQLiteStore {
    /// The database's tables (not SQLite's own `sqlite_*`), in name order.
    public func tableNames() async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name")
        }
    }

    /// Every row of `table`, as JSON batches of at most `batchRows` rows, with its column list and the highest id
    /// SQLite ever issued in it.
    public func snapshot(of table: String, batchRows: Int = 2000) async throws -> StoreTableSnapshot {
        try await pool.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?)", arguments: [table]) == true else {
                throw TenantSyncError(.storeUnavailable, "The SQLite state has no table \(table).", context: ["reason": "schema-mismatch", "table": table])
            }
            let columns = try db.columns(in: table).map(\.name)
            let select = "SELECT \(columns.map(Self.quotedName).joined(separator: ", ")) FROM \(Self.quotedName(table))"
            let keys = columns.map { JSONText.string($0) + ":" }
            var batches: [String] = []
            var batch = ""
            var inBatch = 0
            var rowCount = 0
            let cursor = try Row.fetchCursor(db, sql: select)
            while let row = try cursor.next() {
                batch += inBatch == 0 ? "[{" : ",{"
                for index in columns.indices {
                    if index > 0 { batch += "," }
                    batch += keys[index]
                    let value: DatabaseValue = row[index]
                    batch += try JSONText.value(value, table: table, column: columns[index])
                }
                batch += "}"
                inBatch += 1
                rowCount += 1
                if inBatch == batchRows {
                    batches.append(batch + "]")
                    batch = ""
                    inBatch = 0
                }
            }
            if inBatch > 0 { batches.append(batch + "]") }
            var highest: Int64?
            if try db.tableExists("sqlite_sequence") {
                highest = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [table])
            }
            return StoreTableSnapshot(table: table, columns: columns, rowCount: rowCount, batches: batches, highestIssuedID: highest)
        }
    }

    /// The columns of `table` and the types their declarations name (`TEXT`, `INTEGER`, `BLOB`), in the table's order.
    public func declaredColumnTypes(of table: String) async throws -> [(column: String, type: String)] {
        try await pool.read { db in try db.columns(in: table).map { ($0.name, $0.type) } }
    }

    /// Opens every sealed secret of the state with this store's key at its place: how many there are, and the places
    /// (`token_sets:12:access`, never a value) of those that do not open.
    public func sealedSecretsNotOpening() async throws -> (checked: Int, failing: [String]) {
        let sealer = sealer
        return try await pool.read { db in
            var checked = 0
            var failing: [String] = []
            func check(_ sealed: Data?, _ place: String) {
                guard let sealed else { return }
                checked += 1
                if (try? sealer.open(sealed, boundTo: place)) == nil { failing.append(place) }
            }
            for row in try Row.fetchAll(db, sql: "SELECT grant_id, access_token_sealed, refresh_token_sealed FROM token_sets ORDER BY grant_id") {
                let grantID: Int64 = row[0]
                check(row[1], Self.tokenPlace(grantID, "access"))
                check(row[2], Self.tokenPlace(grantID, "refresh"))
            }
            for row in try Row.fetchAll(db, sql: "SELECT id, client_secret_sealed, client_key_sealed FROM service_accounts ORDER BY id") {
                let accountID: Int64 = row[0]
                check(row[1], Self.clientSecretPlace(accountID))
                check(row[2], Self.clientKeyPlace(accountID))
            }
            return (checked, failing)
        }
    }

    static func quotedName(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}

/// JSON text for ``SQLiteStore/snapshot(of:batchRows:)``, written by hand: rows are many, and each value's form is
/// fixed by ``StoreTableSnapshot``.
private enum JSONText {
    static func value(_ value: DatabaseValue, table: String, column: String) throws -> String {
        switch value.storage {
        case .null:
            return "null"
        case .int64(let number):
            return String(number)
        case .double(let number):
            guard number.isFinite else {
                throw TenantSyncError(
                    .storeUnavailable, "The SQLite state holds a number JSON cannot carry in \(table).\(column).",
                    context: ["reason": "schema-mismatch", "table": table]
                )
            }
            return "\(number)"
        case .string(let text):
            return string(text)
        case .blob(let data):
            // bytea's hex input form, which PostgreSQL reads back into the same bytes.
            var hex = "\"\\\\x"
            hex.reserveCapacity(data.count * 2 + 6)
            for byte in data {
                hex.append(digits[Int(byte >> 4)])
                hex.append(digits[Int(byte & 0x0F)])
            }
            return hex + "\""
        }
    }

    static func string(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\u00" + String(digits[Int(scalar.value >> 4)]) + String(digits[Int(scalar.value & 0x0F)])
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static let digits: [Character] = Array("0123456789abcdef")
}
