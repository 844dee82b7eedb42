import Credentials
import Foundation
import Logging
import TenantSyncCore
import TenantSyncPostgreSQL
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Issue 17: the real `tenantsyncd` on PostgreSQL: `--check-config` without connecting, exit 69 for a database
/// that does not answer, a start on the private test server, and exit 77 for a key that is not the cluster's.
@Suite("Daemon on PostgreSQL", .serialized)
struct PostgreSQLDaemonTests {
    /// A password no message may show.
    static let password = "Pw-7f3a9c-never-shown"

    /// `[database]` for `url`, with the password in an owner-only file of the sandbox.
    static func databaseConfig(_ sandbox: DaemonSandbox, url: String, password: String = PostgreSQLDaemonTests.password, tls: String) throws -> String {
        let file = sandbox.path + "/db-password"
        guard FileManager.default.createFile(atPath: file, contents: Data((password + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown)
        }
        return "[database]\nurl = \"\(url)\"\npassword_file = \"\(file)\"\n\(tls)\n"
    }

    @Test("--check-config validates [database] without connecting: a closed port passes, a password in the url is refused at its line")
    func checkConfigDoesNotConnect() async throws {
        let sandbox = try DaemonSandbox()
        let port = try freeLoopbackPort()
        try sandbox.writeConfig(try Self.databaseConfig(sandbox, url: "postgresql://ts@127.0.0.1:\(port)/ts", tls: "tls = \"disable\""))
        let valid = try await DaemonProcess.runToExit(arguments: ["--check-config", "--config", sandbox.configPath])
        #expect(valid.status == 0, "stderr: \(valid.stderr)")

        try sandbox.writeConfig("[database]\nurl = \"postgresql://ts:\(Self.password)@127.0.0.1:\(port)/ts\"\n")
        let refused = try await DaemonProcess.runToExit(arguments: ["--check-config", "--config", sandbox.configPath])
        #expect(refused.status == 78)
        #expect(refused.stderr.hasPrefix("tenantsyncd: \(sandbox.configPath):6: database.url must not carry a password"), "got: \(refused.stderr)")
        #expect(refused.stderr.contains("password_file"))
        #expect(!(refused.stdout + refused.stderr).contains(Self.password), "the password is shown: \((refused.stdout + refused.stderr))")
    }

    @Test("a database that does not answer stops the start with one line naming host:port and exit 69, the password nowhere")
    func unreachableDatabaseExits69() async throws {
        let sandbox = try DaemonSandbox()
        let port = try freeLoopbackPort()
        try sandbox.writeConfig(try Self.databaseConfig(sandbox, url: "postgresql://ts@127.0.0.1:\(port)/ts", tls: "tls = \"disable\""))
        let result = try await DaemonProcess.runToExit(arguments: ["--config", sandbox.configPath], timeout: .seconds(60))
        #expect(result.status == 69, "stderr: \(result.stderr)")
        let exitLines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("tenantsyncd: cannot start:") }
        #expect(exitLines.count == 1, "one exit line, got: \(result.stderr)")
        #expect(exitLines.first?.contains("127.0.0.1:\(port)") == true, "the line names host:port: \(result.stderr)")
        #expect(!(result.stdout + result.stderr).contains(Self.password), "the password is shown: \((result.stdout + result.stderr))")
        #expect(!FileManager.default.fileExists(atPath: sandbox.databasePath), "no SQLite database is created for a PostgreSQL url")
    }

    @Test("a login the server refuses (wrong password) stops the start with exit 77, which the unit does not restart on, and one line naming the cause, no password")
    func refusedLoginExits77() async throws {
        let server = try await PostgreSQLServer.shared()
        let sandbox = try DaemonSandbox()
        try sandbox.writeConfig(try Self.databaseConfig(
            sandbox, url: "postgresql://\(server.user)@127.0.0.1:\(server.port)/postgres", password: Self.password, tls: "tls = \"disable\""
        ))
        let result = try await DaemonProcess.runToExit(arguments: ["--config", sandbox.configPath], timeout: .seconds(60))
        #expect(result.status == 77, "stderr: \(result.stderr)")
        let exitLines = result.stderr.split(separator: "\n").filter { $0.hasPrefix("tenantsyncd: cannot start:") }
        #expect(exitLines.count == 1, "one exit line, got: \(result.stderr)")
        #expect(exitLines.first?.contains("refused the login of user \(server.user)") == true, "names the refusal: \(result.stderr)")
        #expect(exitLines.first?.contains("28P01") == true, "names the SQLSTATE: \(result.stderr)")
        let output = result.stdout + result.stderr
        #expect(!output.contains(Self.password) && !output.contains(server.password), "a password is shown: \(output)")
    }

    /// Every table's row count and rows, as text: equal before and after means nothing was written.
    static func contents(_ server: PostgreSQLServer, _ database: String) async throws -> String {
        let tables = try await server.psql(
            database: database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        ).split(separator: "\n").map(String.init)
        let query = tables.map { "SELECT '\($0)', count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"\($0)\" t" }
        return try await server.psql(database: database, query.joined(separator: " UNION ALL "))
    }

    /// A fresh database on the private server that a node with `key` has prepared (migrated, check value written).
    static func databasePrepared(on server: PostgreSQLServer, key: [UInt8]) async throws -> String {
        let database = try await server.createDatabase()
        let settings = PostgreSQLStoreSettings(
            host: server.host, port: server.port, user: server.user, database: database, password: Secret(server.password), tls: .disable,
            caFile: nil, applicationName: "other-node"
        )
        let store = PostgreSQLStore(settings: settings, sealer: try SecretSealer(keyBytes: key), logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            try await store.prepare()
            try await store.close()
        }
        return database
    }

    static func randomKey() -> [UInt8] { (0..<32).map { _ in UInt8.random(in: .min ... .max) } }

    @Test(
        "with the right key the daemon starts on the private server: ready, tenantsyncctl status answers, the node name is the connections' application_name")
    func startsOnThePrivateServer() async throws {
        let server = try await PostgreSQLServer.shared()
        // An empty database: the daemon migrates it and writes the check value of its key.
        let database = try await server.createDatabase()
        let sandbox = try DaemonSandbox()
        try sandbox.writeKey(Self.randomKey())
        // verify-full against the server's own CA, by the name its certificate carries.
        let url = "postgresql://\(server.user)@localhost:\(server.port)/\(database)"
        try sandbox.writeConfig("node_name = \"pg-node-1\"\n" + Self.databaseConfig(sandbox, url: url, password: server.password, tls: "ca_file = \"\(server.caFile)\""))
        let daemon = try DaemonProcess(arguments: ["--config", sandbox.configPath])
        #expect(await daemon.waitForLog("tenantsyncd started", timeout: .seconds(60)), "never started: \(daemon.log)")

        let ctl = DaemonProcess.binDirectory.appendingPathComponent("tenantsyncctl").path
        let status = try await ChildProcess.run(ctl, ["--socket", sandbox.path + "/control", "status"], environment: ["PATH": "/usr/bin:/bin"])
        #expect(status.status == 0, "tenantsyncctl status: \(status.all)\nlog: \(daemon.log)")
        let names = try await server.psql(database: "postgres", "SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = '\(database)'")
        #expect(names.split(separator: "\n").contains("pg-node-1"), "application names: \(names)")

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0, "log: \(daemon.log)")
        #expect(daemon.log.contains("tenantsyncd stopped"))
        #expect(!daemon.log.contains(server.password), "the password is in the log")
        #expect(!FileManager.default.fileExists(atPath: sandbox.databasePath), "no SQLite database is created for a PostgreSQL url")
    }

    @Test("a key that does not open the database's check value stops the start with exit 77, says the key is not the cluster's, and writes nothing")
    func wrongKeyExits77AndWritesNothing() async throws {
        let server = try await PostgreSQLServer.shared()
        let database = try await Self.databasePrepared(on: server, key: Self.randomKey())
        let before = try await Self.contents(server, database)
        let sandbox = try DaemonSandbox()
        try sandbox.writeKey(Self.randomKey())
        // A daemon past the key check would store this expiry at once.
        let url = "postgresql://\(server.user)@127.0.0.1:\(server.port)/\(database)"
        try sandbox.writeConfig(
            Self.databaseConfig(sandbox, url: url, password: server.password, tls: "tls = \"disable\"") + "[microsoft]\nclient_secret_expires = 2031-01-01\n"
        )
        let result = try await DaemonProcess.runToExit(arguments: ["--config", sandbox.configPath], timeout: .seconds(60))
        #expect(result.status == 77, "stderr: \(result.stderr)")
        let exitLine = result.stderr.split(separator: "\n").first { $0.hasPrefix("tenantsyncd: cannot start:") }
        #expect(exitLine?.contains("another key than the nodes that wrote it") == true, "got: \(result.stderr)")
        #expect(!(result.stdout + result.stderr).contains(server.password))
        #expect(try await Self.contents(server, database) == before, "the database changed")
    }
}
