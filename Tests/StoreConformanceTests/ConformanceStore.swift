import Foundation
import GRDB
import TenantSyncCore
import TenantSyncPostgreSQL
@testable import TenantSyncStore
import TestSupport

/// A store under test, with the raw SQL access the tests need to look behind the protocols (sealed columns,
/// rows altered on purpose) and the few inspection writes no service needs.
struct ConformanceStore: Sendable {
    enum Raw: Sendable {
        case sqlite(SQLiteStore)
        case postgresql(PostgreSQLServer, String)
    }

    let kind: StoreKind
    let store: AnyStore
    let raw: Raw

    /// Runs SQL the two engines read alike and returns the rows as text, one per line, columns separated by `|`.
    @discardableResult
    func sql(_ statement: String) async throws -> [String] {
        switch raw {
        case .sqlite(let store):
            return try await store.pool.write { db in
                try Row.fetchAll(db, sql: statement).map { row in
                    row.databaseValues.map { value in
                        switch value.storage {
                        case .null: return ""
                        case .blob(let data): return "\\x" + data.map { String(format: "%02x", $0) }.joined()
                        default: return value.description.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                        }
                    }.joined(separator: "|")
                }
            }
        case .postgresql(let server, let database):
            let output = try await server.psql(database: database, statement)
            return output.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        }
    }

    /// Whether `text` appears in clear anywhere the database keeps data: SQLite's file and its WAL; PostgreSQL's rows
    /// (every table of the test's database, as text, a bytea column in hex) and the server's write-ahead log.
    func holdsInClear(_ text: String) async throws -> Bool {
        let clear = Data(text.utf8)
        switch raw {
        case .sqlite(let store):
            let bytes = try Data(contentsOf: URL(fileURLWithPath: store.path))
                + ((try? Data(contentsOf: URL(fileURLWithPath: store.path + "-wal"))) ?? Data())
            return bytes.range(of: clear) != nil
        case .postgresql(let server, let database):
            let hex = clear.map { String(format: "%02x", $0) }.joined()
            let tables = try await server.psql(database: database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            for table in tables.split(separator: "\n") {
                let rows = try await server.psql(database: database, "SELECT t::text FROM \"\(table)\" t")
                if rows.contains(text) || rows.contains(hex) { return true }
            }
            let wal = server.directory + "/data/pg_wal"
            for file in try FileManager.default.contentsOfDirectory(atPath: wal) where file.count == 24 {
                if let bytes = FileManager.default.contents(atPath: wal + "/" + file), bytes.range(of: clear) != nil { return true }
            }
            return false
        }
    }

    /// A tenant with one Exchange Online account and its two grants.
    func seedExchangeAccount(domain: String = "contoso.com") async throws -> (Tenant, ServiceAccount, Grant, Grant) {
        let tenant = try await store.upsertTenant(id: UUID().uuidString, domain: domain, displayName: "Contoso")
        let account = try await store.createAccount(tenantID: tenant.id, service: .exchangeOnline, appID: nil, licensingModel: nil)
        let ews = try await store.addGrant(accountID: account.id, name: "ews", resource: "https://outlook.office365.com/.default", flow: .delegated)
        let graph = try await store.addGrant(accountID: account.id, name: "graph", resource: "https://graph.microsoft.com/.default", flow: .delegated)
        return (tenant, account, ews, graph)
    }

    // MARK: Inspection (both stores have these outside the protocols)

    func setGrantState(id: Int64, state: GrantState) async throws {
        switch raw {
        case .sqlite(let store): try await store.setGrantState(id: id, state: state)
        case .postgresql: try await postgreSQL.setGrantState(id: id, state: state)
        }
    }

    func recordRefreshFailure(grantID: Int64, outcome: String, at date: Date, nextRefreshAt: Date) async throws {
        switch raw {
        case .sqlite(let store): try await store.recordRefreshFailure(grantID: grantID, outcome: outcome, at: date, nextRefreshAt: nextRefreshAt)
        case .postgresql: try await postgreSQL.recordRefreshFailure(grantID: grantID, outcome: outcome, at: date, nextRefreshAt: nextRefreshAt)
        }
    }

    func incidents(grantID: Int64) async throws -> [Incident] {
        switch raw {
        case .sqlite(let store): try await store.incidents(grantID: grantID)
        case .postgresql: try await postgreSQL.incidents(grantID: grantID)
        }
    }

    func resolveIncidents(grantID: Int64, at date: Date) async throws {
        switch raw {
        case .sqlite(let store): try await store.resolveIncidents(grantID: grantID, at: date)
        case .postgresql: try await postgreSQL.resolveIncidents(grantID: grantID, at: date)
        }
    }

    private var postgreSQL: PostgreSQLStore {
        // The PostgreSQL case is always made with a PostgreSQLStore (StoreKind.withStore).
        store as! PostgreSQLStore
    }
}
