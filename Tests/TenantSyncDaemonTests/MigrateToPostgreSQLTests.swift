import Credentials
import Foundation
import Logging
import TenantSyncCore
import TenantSyncDaemon
import TenantSyncPostgreSQL
import TenantSyncStore
import Testing
import TestSupport

/// Issue 17, "Moving up": the real `tenantsyncd --migrate-to-postgresql URL` copies an SQLite state into an empty
/// database of the private PostgreSQL server, and refuses what it must.
@Suite("tenantsyncd --migrate-to-postgresql", .serialized)
struct MigrateToPostgreSQLTests {
    /// What the SQLite state held, read through its own store before the copy.
    struct Seeded {
        var tenants: [Tenant]
        var accounts: [ServiceAccount]
        var grants: [Grant]
        var tokens: [Int64: TokenSet]
        var clientSecret: (accountID: Int64, secret: Secret)
        var alerts: [Alert]
        var deliveries: [Int64: [AlertDelivery]]
        var incidents: [Incident]
        var expiries: [CredentialExpiry]
        var runs: [String: [SyncRun]]
        var users: [String: Int]
        var groups: [String: Set<String>]
        var selected: [String: [SelectedTarget]]
        /// The highest account id ever issued: an account was deleted after it, so it is above every copied one.
        var deletedAccountID: Int64
    }

    static let at = Date(timeIntervalSince1970: 1_800_000_000.250)

    /// An SQLite state built through the store's own API: two tenants, accounts with token sets, a Teams app secret, the
    /// directory, runs (one held), an incident, alerts with pending and delivered deliveries, credential expiries.
    static func seed(_ sandbox: DaemonSandbox, key: [UInt8]) async throws -> Seeded {
        let store = try SQLiteStore(path: sandbox.databasePath, sealer: try SecretSealer(keyBytes: key), logger: Logger(label: "test"))
        defer { try? store.close() }
        let contoso = try await store.upsertTenant(id: "6f1c2a3b-0000-4000-8000-000000000001", domain: "contoso.com", displayName: "Contoso")
        let fabrikam = try await store.upsertTenant(id: "6f1c2a3b-0000-4000-8000-000000000002", domain: "Fabrikam.com", displayName: nil)
        let exchange = try await store.createAccount(tenantID: contoso.id, service: .exchangeOnline, appID: nil, licensingModel: nil)
        let ews = try await store.addGrant(accountID: exchange.id, name: "ews", resource: "https://outlook.office365.com/.default", flow: .delegated)
        let graph = try await store.addGrant(accountID: exchange.id, name: "graph", resource: "https://graph.microsoft.com/.default", flow: .delegated)
        let teams = try await store.createAccount(tenantID: fabrikam.id, service: .teamsChat, appID: "app-1", licensingModel: .evaluation)
        let app = try await store.addGrant(accountID: teams.id, name: "app", resource: "https://graph.microsoft.com/.default", flow: .clientCredentials)
        let secret = Secret("teams-app-secret-\(UUID().uuidString)")
        try await store.setClientSecret(accountID: teams.id, appID: "app-1", secret: secret, expiresAt: at + 86_400 * 20)
        let doomed = try await store.createAccount(tenantID: fabrikam.id, service: .onedrive, appID: nil, licensingModel: nil)
        try await store.deleteAccount(id: doomed.id)

        var tokens: [Int64: TokenSet] = [:]
        for (grant, refresh) in [(ews, true), (graph, true), (app, false)] {
            let set = TokenSet(
                accessToken: Secret("access-\(grant.id)-\(UUID().uuidString)"), refreshToken: refresh ? Secret("refresh-\(grant.id)-\(UUID().uuidString)") : nil,
                scopes: [grant.resource], obtainedAt: at, expiresAt: at + 3600
            )
            try await store.storeTokenSet(grantID: grant.id, tokens: set, nextRefreshAt: at + 3000)
            tokens[grant.id] = set
        }
        _ = try await store.reportIncident(IncidentReport(
            grantID: graph.id, accountID: exchange.id, kind: .tokenInvalid, error: "invalid_grant", aadstsCode: 70008, traceID: "trace-1",
            correlationID: "corr-1", seenAt: at
        ))
        try await store.recordCredentialExpiry(
            CredentialExpiry(credential: "product", accountID: nil, kind: .certificate, thumbprint: "ab12cd", expiresAt: at + 86_400 * 90), at: at
        )

        var batch = DirectoryBatch()
        batch.upsertedUsers = (1...5).map { DirectoryUser(id: "u\($0)", userPrincipalName: "user\($0)@contoso.com", displayName: "User \($0)", mail: nil, accountEnabled: $0 != 3) }
        batch.upsertedGroups = [DirectoryGroup(id: "g1", displayName: "Finance", mail: "finance@contoso.com"), DirectoryGroup(id: "g2", displayName: "All", mail: nil)]
        batch.replacedMembershipsOfGroups = [
            "g1": [GroupMembership(groupID: "g1", memberID: "u1", memberType: .user)],
            "g2": [GroupMembership(groupID: "g2", memberID: "g1", memberType: .group), GroupMembership(groupID: "g2", memberID: "u2", memberType: .user)],
        ]
        batch.deltaLinks = ["users": "https://graph/users/delta?$deltatoken=a\"quoted\\"]
        let run = try await store.startSyncRun(tenantID: contoso.id, service: nil, trigger: .daily, mode: .full, at: at)
        _ = try await store.applyDirectoryBatch(tenantID: contoso.id, batch: batch, at: at)
        try await store.finishSyncRun(runID: run.id, state: .succeeded, error: nil, at: at + 5)
        let held = try await store.startSyncRun(tenantID: contoso.id, service: nil, trigger: .daily, mode: .delta, at: at + 60)
        try await store.holdSyncRun(runID: held.id, removedUserIDs: ["u4", "u5"], removedGroupIDs: [], deltaLinks: ["users": "https://graph/next"], at: at + 61)
        try await store.addSelectedTargets([
            SelectedTarget(tenantID: fabrikam.id, userPrincipalName: "Ann@fabrikam.com", userID: "f1", source: .upn, addedAt: at),
        ])

        let first = try await store.enqueueAlert(
            NewAlert(kind: "token-invalid", severity: .critical, tenantID: contoso.id, accountID: exchange.id, grantID: graph.id, subject: "s", body: "b\nline two",
                     facts: AlertFacts(aadstsCode: 70008)),
            channels: ["journal", "smtp"], at: at
        )
        try await store.markDelivered(alertID: first.id, channel: "journal", at: at + 1)
        try await store.markDeliveryFailed(alertID: first.id, channel: "smtp", error: "connection refused", nextAttemptAt: at + 300)
        let second = try await store.enqueueAlert(
            NewAlert(kind: "account-protected", severity: .info, tenantID: fabrikam.id, subject: "Teams Chat protected.", body: "é ✓"),
            channels: ["hook:pager"], at: at + 2
        )
        try await store.acknowledgeAlert(id: second.id, at: at + 3)

        let tenants = try await store.tenants()
        var runs: [String: [SyncRun]] = [:]
        var users: [String: Int] = [:]
        var groups: [String: Set<String>] = [:]
        var selected: [String: [SelectedTarget]] = [:]
        for tenant in tenants {
            runs[tenant.id] = try await store.syncRuns(tenantID: tenant.id, limit: 50)
            users[tenant.id] = try await store.directoryUserCount(tenantID: tenant.id)
            groups[tenant.id] = try await store.directoryGroupIDs(tenantID: tenant.id)
            selected[tenant.id] = try await store.selectedTargets(tenantID: tenant.id)
        }
        let alerts = try await store.alerts(includeAcknowledged: true, limit: 50)
        return Seeded(
            tenants: tenants, accounts: try await store.accounts(), grants: [ews, graph, app], tokens: tokens, clientSecret: (teams.id, secret),
            alerts: alerts, deliveries: try await store.deliveries(alertIDs: alerts.map(\.id)), incidents: try await store.openIncidents(),
            expiries: try await store.credentialExpiries(), runs: runs, users: users, groups: groups, selected: selected, deletedAccountID: doomed.id
        )
    }

    /// The configuration of a copy: the state directory and `[database]`'s password and TLS, no url (the command line's).
    static func writeConfig(_ sandbox: DaemonSandbox, password: String) throws {
        let file = sandbox.path + "/db-password"
        guard FileManager.default.createFile(atPath: file, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown)
        }
        try sandbox.writeConfig("[database]\npassword_file = \"\(file)\"\ntls = \"disable\"\n")
    }

    static func migrate(_ sandbox: DaemonSandbox, _ server: PostgreSQLServer, _ database: String) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await DaemonProcess.runToExit(
            arguments: ["--config", sandbox.configPath, "--migrate-to-postgresql", "postgresql://\(server.user)@127.0.0.1:\(server.port)/\(database)"],
            timeout: .seconds(120)
        )
    }

    /// Runs `body` with the PostgreSQL store on `database`, prepared with `key` as a daemon would be.
    static func withPostgreSQL<R: Sendable>(
        _ server: PostgreSQLServer, _ database: String, key: [UInt8], _ body: (PostgreSQLStore) async throws -> R
    ) async throws -> R {
        let settings = PostgreSQLStoreSettings(
            host: server.host, port: server.port, user: server.user, database: database, password: Secret(server.password), tls: .disable,
            caFile: nil, applicationName: "migrate-test"
        )
        let store = PostgreSQLStore(settings: settings, sealer: try SecretSealer(keyBytes: key), logger: Logger(label: "test"))
        return try await withThrowingTaskGroup(of: Void.self, returning: R.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            try await store.prepare()
            let result = try await body(store)
            try await store.close()
            return result
        }
    }

    @Test("a state built through the SQLite store is copied: same accounts, token sets that open, alerts, directory; new ids above the copied ones")
    func copiesTheWholeState() async throws {
        let server = try await PostgreSQLServer.shared()
        let database = try await server.createDatabase()
        let sandbox = try DaemonSandbox()
        let key = PostgreSQLDaemonTests.randomKey()
        try sandbox.writeKey(key)
        let seeded = try await Self.seed(sandbox, key: key)
        try Self.writeConfig(sandbox, password: server.password)

        let result = try await Self.migrate(sandbox, server, database)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        for (table, rows) in [("tenants", 2), ("service_accounts", 2), ("grants", 3), ("token_sets", 3), ("alerts", 2), ("alert_deliveries", 3), ("held_removals", 2)] {
            let line = result.stdout.split(separator: "\n").first { $0.split(separator: " ").first == Substring(table) }
            #expect(line?.contains(" \(rows) row") == true, "the report gives \(table) \(rows) rows: \(result.stdout)")
        }
        let secretsAndPassword = seeded.tokens.values.flatMap { [$0.accessToken.reveal] + ($0.refreshToken.map { [$0.reveal] } ?? []) } + [server.password, seeded.clientSecret.secret.reveal]
        for secret in secretsAndPassword {
            #expect(!(result.stdout + result.stderr).contains(secret), "a secret or the password is printed")
        }

        try await Self.withPostgreSQL(server, database, key: key) { store in
            // Sorted by id: the stores order domains by their own collations.
            #expect(try await store.tenants().sorted { $0.id < $1.id } == seeded.tenants.sorted { $0.id < $1.id })
            #expect(try await store.accounts() == seeded.accounts)
            for grant in seeded.grants {
                #expect(try await store.grant(id: grant.id)?.name == grant.name)
                #expect(try await store.tokenSet(grantID: grant.id) == seeded.tokens[grant.id], "grant \(grant.id)'s tokens open to the same values")
            }
            #expect(try await store.clientSecret(accountID: seeded.clientSecret.accountID) == seeded.clientSecret.secret)
            let alerts = try await store.alerts(includeAcknowledged: true, limit: 50)
            #expect(alerts == seeded.alerts)
            #expect(try await store.deliveries(alertIDs: alerts.map(\.id)) == seeded.deliveries)
            #expect(try await store.openIncidents() == seeded.incidents)
            #expect(try await store.credentialExpiries() == seeded.expiries)
            for tenant in seeded.tenants {
                #expect(try await store.syncRuns(tenantID: tenant.id, limit: 50) == seeded.runs[tenant.id])
                #expect(try await store.directoryUserCount(tenantID: tenant.id) == seeded.users[tenant.id])
                #expect(try await store.directoryGroupIDs(tenantID: tenant.id) == seeded.groups[tenant.id])
                #expect(try await store.selectedTargets(tenantID: tenant.id) == seeded.selected[tenant.id])
            }
            #expect(try await store.heldSyncRunsOfAllTenants().count == 1)
            #expect(try await store.deltaLink(tenantID: seeded.tenants[0].id, resource: "users") != nil)

            // Every identity sequence was advanced: past the copied ids, and past the id SQLite issued to the deleted account.
            let account = try await store.createAccount(tenantID: seeded.tenants[1].id, service: .sharepointOnline, appID: nil, licensingModel: nil)
            #expect(account.id > seeded.deletedAccountID, "new account id \(account.id), deleted one \(seeded.deletedAccountID)")
            let grant = try await store.addGrant(accountID: account.id, name: "graph", resource: "r", flow: .delegated)
            #expect(grant.id > seeded.grants.map(\.id).max()!)
            let run = try await store.startSyncRun(tenantID: seeded.tenants[1].id, service: nil, trigger: .manual, mode: .full, at: Self.at)
            #expect(run.id > seeded.runs.values.flatMap { $0 }.map(\.id).max()!)
            let alert = try await store.enqueueAlert(NewAlert(kind: "k", severity: .info, subject: "s", body: "b"), channels: ["journal"], at: Self.at)
            #expect(alert.id > seeded.alerts.map(\.id).max()!)
            let incident = try await store.reportIncident(IncidentReport(
                grantID: grant.id, accountID: account.id, kind: .tokenInvalid, error: nil, aadstsCode: nil, traceID: nil, correlationID: nil, seenAt: Self.at
            ))
            #expect(incident.incident.id > seeded.incidents.map(\.id).max()!)
        }
    }

    @Test("every SQLite table is copied or named as left behind, and each of its columns has a PostgreSQL column of a matching type")
    func schemasCorrespond() async throws {
        let server = try await PostgreSQLServer.shared()
        let database = try await server.createDatabase()
        let sandbox = try DaemonSandbox()
        let key = PostgreSQLDaemonTests.randomKey()
        try sandbox.writeKey(key)
        try await Self.withPostgreSQL(server, database, key: key) { _ in }
        let source = try SQLiteStore(path: sandbox.databasePath, sealer: try SecretSealer(keyBytes: key), logger: Logger(label: "test"))
        defer { try? source.close() }

        let tables = Set(try await source.tableNames())
        #expect(tables.subtracting(PostgreSQLStore.tablesNotImported) == Set(PostgreSQLStore.importedTables))
        let rows = try await server.psql(
            database: database, "SELECT table_name || '.' || column_name || '=' || data_type FROM information_schema.columns WHERE table_schema = 'public'"
        )
        var targetTypes: [String: String] = [:]
        for line in rows.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            targetTypes[String(parts[0])] = String(parts[1])
        }
        // What SQLite declares, and the PostgreSQL types that hold it (dates are text in SQLite, booleans integers).
        let holders = ["TEXT": ["text", "timestamp with time zone"], "INTEGER": ["bigint", "integer", "smallint", "boolean"], "BLOB": ["bytea"]]
        for table in PostgreSQLStore.importedTables {
            let declared = try await source.declaredColumnTypes(of: table)
            #expect(!declared.isEmpty)
            for (column, type) in declared {
                let target = targetTypes["\(table).\(column)"]
                #expect(target.map { holders[type.uppercased()]?.contains($0) == true } == true, "\(table).\(column): SQLite \(type), PostgreSQL \(target ?? "missing")")
                if column.hasSuffix("_at") {
                    #expect(target == "timestamp with time zone", "\(table).\(column) is a date: \(target ?? "missing")")
                }
            }
        }
    }

    @Test("a target holding data is refused with exit 73 and one line naming what it holds; nothing in it changes")
    func refusesANonEmptyTarget() async throws {
        let server = try await PostgreSQLServer.shared()
        let database = try await server.createDatabase()
        let sandbox = try DaemonSandbox()
        let key = PostgreSQLDaemonTests.randomKey()
        try sandbox.writeKey(key)
        _ = try await Self.seed(sandbox, key: key)
        try Self.writeConfig(sandbox, password: server.password)
        try await Self.withPostgreSQL(server, database, key: key) { store in
            _ = try await store.upsertTenant(id: "already-here", domain: "already.example", displayName: nil)
        }
        let before = try await PostgreSQLDaemonTests.contents(server, database)

        let result = try await Self.migrate(sandbox, server, database)
        #expect(result.status == 73, "stderr: \(result.stderr)")
        let lines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("tenantsyncd: cannot migrate:") }
        #expect(lines.count == 1 && lines[0].contains("not empty") && lines[0].contains("tenants (1 row)"), "got: \(result.stderr)")
        #expect(try await PostgreSQLDaemonTests.contents(server, database) == before, "the target changed")
    }

    @Test("a key that is not the target's check value exits 77 and writes nothing")
    func refusesAnotherKeysTarget() async throws {
        let server = try await PostgreSQLServer.shared()
        let database = try await PostgreSQLDaemonTests.databasePrepared(on: server, key: PostgreSQLDaemonTests.randomKey())
        let before = try await PostgreSQLDaemonTests.contents(server, database)
        let sandbox = try DaemonSandbox()
        let key = PostgreSQLDaemonTests.randomKey()
        try sandbox.writeKey(key)
        _ = try await Self.seed(sandbox, key: key)
        try Self.writeConfig(sandbox, password: server.password)

        let result = try await Self.migrate(sandbox, server, database)
        #expect(result.status == 77, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("another key than the nodes that wrote it"), "got: \(result.stderr)")
        #expect(try await PostgreSQLDaemonTests.contents(server, database) == before, "the target changed")
    }

    @Test("a daemon holding the state directory's lock makes the copy refuse (exit 75) before it touches the target")
    func refusesWhileADaemonHoldsTheState() async throws {
        let server = try await PostgreSQLServer.shared()
        let database = try await server.createDatabase()
        let sandbox = try DaemonSandbox()
        let key = PostgreSQLDaemonTests.randomKey()
        try sandbox.writeKey(key)
        _ = try await Self.seed(sandbox, key: key)
        try Self.writeConfig(sandbox, password: server.password)
        let held = try StateDirectory(path: sandbox.stateDirectory)

        let result = try await Self.migrate(sandbox, server, database)
        withExtendedLifetime(held) {}
        #expect(result.status == 75, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("Another tenantsyncd is using the state directory"), "got: \(result.stderr)")
        let tables = try await server.psql(database: database, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        #expect(tables.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "the target was touched: \(tables)")
    }

    @Test("a password in the URL is refused (exit 64) without repeating it")
    func refusesAPasswordInTheURL() async throws {
        let sandbox = try DaemonSandbox()
        try sandbox.writeConfig()
        let result = try await DaemonProcess.runToExit(
            arguments: ["--config", sandbox.configPath, "--migrate-to-postgresql", "postgresql://ts:\(PostgreSQLDaemonTests.password)@127.0.0.1:5432/ts"]
        )
        #expect(result.status == 64, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("must not carry a password"), "got: \(result.stderr)")
        #expect(!(result.stdout + result.stderr).contains(PostgreSQLDaemonTests.password))
    }
}
