import Foundation
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
}
