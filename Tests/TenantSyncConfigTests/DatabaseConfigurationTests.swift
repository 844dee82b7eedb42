import Foundation
import Testing
import TenantSyncConfig
import TenantSyncCore
#if canImport(Glibc)
import Glibc
#endif

/// Issue 17: `[database]`, `[cluster]` and `[daemon] node_name`, each refused at its line when wrong.
@Suite("Configuration: database, cluster and node name")
struct DatabaseConfigurationTests {
    static let file = "/etc/tenantsync/tenantsyncd.toml"

    func parse(_ text: String, environment: [String: String] = [:]) throws(ConfigurationError) -> DaemonConfiguration {
        try ConfigurationLoader(environment: environment).parse(text: text, file: Self.file)
    }

    func failure(_ text: String, environment: [String: String] = [:]) -> ConfigurationError? {
        do {
            _ = try parse(text, environment: environment)
            return nil
        } catch {
            return error
        }
    }

    /// `[database]` with `url` on line 2 and `extra` lines after it.
    func database(_ url: String, _ extra: String = "") -> String { "[database]\nurl = \"\(url)\"\n\(extra)" }

    /// A private directory, removed afterwards.
    func withDirectory<T>(_ body: (String) throws -> T) throws -> T {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dbconf-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(path)
    }

    func write(_ text: String, to path: String, mode: Int) throws {
        #expect(FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]))
    }

    @Test("without [database] the state stays in SQLite: no url, no password read, tls verify-full, lease 30s, node named after the host")
    func defaults() throws {
        let configuration = try parse("")
        #expect(configuration.database.url == nil)
        #expect(configuration.database.password == nil)
        #expect(configuration.database.tls == .verifyFull)
        #expect(configuration.cluster.leaseDuration == .seconds(30))
        // The kernel's host name, as hostname(1) prints it.
        let kernel = try String(contentsOfFile: "/proc/sys/kernel/hostname", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!kernel.isEmpty && configuration.daemon.nodeName == kernel)
    }

    @Test("a url names user, host, port (5432 by default) and database; postgres:// and bracketed IPv6 hosts are accepted")
    func urls() throws {
        #expect(try parse(database("postgresql://tenantsync@db.example.net/tenantsync")).database.url
            == PostgreSQLURL(user: "tenantsync", host: "db.example.net", port: 5432, database: "tenantsync"))
        #expect(try parse(database("postgres://ts@127.0.0.1:6543/state")).database.url
            == PostgreSQLURL(user: "ts", host: "127.0.0.1", port: 6543, database: "state"))
        let v6 = try #require(try parse(database("postgresql://ts@[::1]:5433/state")).database.url)
        #expect(v6 == PostgreSQLURL(user: "ts", host: "::1", port: 5433, database: "state"))
        #expect(v6.hostAndPort == "[::1]:5433")
        #expect(try parse(database("POSTGRESQL://svc%40corp@db/state%2Dx")).database.url?.user == "svc@corp")
        #expect(try parse(database("postgresql://u@db/state%2Dx")).database.url?.database == "state-x")
    }

    @Test(
        "a url that is not postgresql://USER@HOST:PORT/DB is refused at its line, saying which part is wrong",
        arguments: [
            ("mysql://u@db/x", "scheme \"mysql\""),
            ("db.example.net", "not a URL"),
            ("postgresql://db.example.net/x", "no user"),
            ("postgresql://@db/x", "no user"),
            ("postgresql://u@/x", "no host"),
            ("postgresql://u@:5432/x", "no host"),
            ("postgresql://u@db", "no database"),
            ("postgresql://u@db/", "no database"),
            ("postgresql://u@db/a/b", "more than one path segment"),
            ("postgresql://u@db:0/x", "port \"0\""),
            ("postgresql://u@db:70000/x", "port \"70000\""),
            ("postgresql://u@db:54x/x", "port \"54x\""),
            ("postgresql://u@db:/x", "port \"\""),
            ("postgresql://u@::1:5432/x", "IPv6 address goes in brackets"),
            ("postgresql://u@[::1/x", "closing ]"),
            ("postgresql://u@[db.example]/x", "not an IPv6 address"),
            ("postgresql://u@db x/x", "not a host name"),
            ("postgresql://u@db/x?sslmode=disable&connect_timeout=3", "query parameters (sslmode, connect_timeout)"),
            ("postgresql://u@db/x#frag", "fragment"),
        ]
    )
    func badURLs(url: String, expected: String) throws {
        let error = try #require(failure(database(url)), "\(url) was accepted")
        #expect(error.line == 2, "\(url): \(error)")
        #expect(error.message.contains(expected), "\(url): \(error.message)")
        #expect(error.description.hasPrefix("\(Self.file):2: database.url"), "\(error)")
    }

    @Test("a password in the url is refused with an error that says to use password_file and does not repeat it")
    func passwordInURLRefused() throws {
        for url in ["postgresql://ts:Sup3rS3cret@db.example.net/ts", "postgresql://ts:Sup3rS3cret@[::1]:99999/ts?sslmode=x", "mysql://ts:Sup3rS3cret@db/x"] {
            let error = try #require(failure(database(url)), "\(url) was accepted")
            #expect(error.line == 2)
            #expect(!error.description.contains("Sup3rS3cret"), "the error repeats the password: \(error)")
            if url.hasPrefix("postgresql") { #expect(error.message.contains("password_file"), "\(error.message)") }
        }
    }

    @Test("password_file is read (one trailing newline cut) and must be owner-only, like the sealing key")
    func passwordFile() throws {
        try withDirectory { directory in
            let path = directory + "/db-password"
            try write("pa ss \n", to: path, mode: 0o600)
            let configuration = try parse(database("postgresql://ts@db/ts", "password_file = \"\(path)\"\n"))
            #expect(configuration.database.password?.reveal == "pa ss ")
            #expect("\(configuration.database)".contains("pa ss") == false, "the section prints the password")

            chmod(path, 0o640)
            let error = try #require(failure(database("postgresql://ts@db/ts", "password_file = \"\(path)\"\n")))
            #expect(error.line == 3, "\(error)")
            #expect(error.message.contains("has mode 640") && error.message.contains("chmod 600"), "\(error.message)")
            #expect(!error.description.contains("pa ss"))

            let missing = try #require(failure(database("postgresql://ts@db/ts", "password_file = \"\(directory)/none\"\n")))
            #expect(missing.line == 3 && missing.message.contains("does not exist"), "\(missing)")

            try write("\n", to: path, mode: 0o600)
            let empty = try #require(failure(database("postgresql://ts@db/ts", "password_file = \"\(path)\"\n")))
            #expect(empty.line == 3 && empty.message.contains("is empty"), "\(empty)")
        }
    }

    @Test("without password_file the credential database-password is read; without either there is no password")
    func passwordCredential() throws {
        try withDirectory { credentials in
            let environment = ["CREDENTIALS_DIRECTORY": credentials]
            #expect(try parse(database("postgresql://ts@db/ts"), environment: environment).database.password == nil)
            // systemd's credential files are read-only to the service's user (mode 0400 or 0440): no mode check.
            try write("from-credential\r\n", to: credentials + "/database-password", mode: 0o440)
            #expect(try parse(database("postgresql://ts@db/ts"), environment: environment).database.password?.reveal == "from-credential")
            // A relative password_file names a credential too.
            try write("other\n", to: credentials + "/pg", mode: 0o440)
            let named = try parse(database("postgresql://ts@db/ts", "password_file = \"pg\"\n"), environment: environment)
            #expect(named.database.password?.reveal == "other")
            // SQLite reads no database password, whatever credentials exist.
            #expect(try parse("", environment: environment).database.password == nil)
        }
    }

    @Test("tls defaults to verify-full; disable is accepted only for loopback hosts")
    func tls() throws {
        #expect(try parse(database("postgresql://ts@db/ts")).database.tls == .verifyFull)
        #expect(try parse(database("postgresql://ts@db/ts", "tls = \"require\"\n")).database.tls == .require)
        for host in ["127.0.0.1", "localhost", "[::1]", "127.8.9.10"] {
            #expect(try parse(database("postgresql://ts@\(host)/ts", "tls = \"disable\"\n")).database.tls == .disable, "\(host)")
        }
        let error = try #require(failure(database("postgresql://ts@db.example.net/ts", "tls = \"disable\"\n")))
        #expect(error.line == 3 && error.message.contains("loopback") && error.message.contains("db.example.net"), "\(error)")
        let unknown = try #require(failure(database("postgresql://ts@db/ts", "tls = \"prefer\"\n")))
        #expect(unknown.line == 3 && unknown.message.contains("verify-full, require, disable"), "\(unknown)")
    }

    @Test("ca_file must be readable and means nothing with tls = disable")
    func caFile() throws {
        try withDirectory { directory in
            let ca = directory + "/ca.pem"
            try write("-----BEGIN CERTIFICATE-----\n", to: ca, mode: 0o644)
            #expect(try parse(database("postgresql://ts@db/ts", "ca_file = \"\(ca)\"\n")).database.caFile == ca)
            let missing = try #require(failure(database("postgresql://ts@db/ts", "ca_file = \"\(directory)/none.pem\"\n")))
            #expect(missing.line == 3 && missing.message.contains("cannot read the CA file"), "\(missing)")
            let disabled = try #require(failure(database("postgresql://ts@localhost/ts", "tls = \"disable\"\nca_file = \"\(ca)\"\n")))
            #expect(disabled.line == 4, "\(disabled)")
        }
    }

    @Test("password_file, tls and ca_file without a url are refused: they would silently do nothing")
    func keysWithoutURL() throws {
        for (key, value) in [("password_file", "/x"), ("tls", "require"), ("ca_file", "/x")] {
            let error = try #require(failure("[database]\n\(key) = \"\(value)\"\n"), "\(key)")
            #expect(error.line == 2 && error.message.contains("database.url is not"), "\(error)")
        }
        let unknown = try #require(failure("[database]\nurl = \"postgresql://ts@db/ts\"\nsslmode = \"disable\"\n"))
        #expect(unknown.line == 3 && unknown.message.contains("unknown key \"sslmode\""), "\(unknown)")
    }

    @Test("node_name is 1 to 63 printable ASCII characters without spaces")
    func nodeName() throws {
        #expect(try parse("[daemon]\nnode_name = \"node-a.dc1\"\n").daemon.nodeName == "node-a.dc1")
        #expect(try parse("[daemon]\nnode_name = \"\(String(repeating: "n", count: 63))\"\n").daemon.nodeName.count == 63)
        for bad in ["", String(repeating: "n", count: 64), "node a", "node\\tb", "nœud"] {
            let error = try #require(failure("[daemon]\nstate_directory = \"/tmp/x\"\nnode_name = \"\(bad)\"\n"), "\(bad) was accepted")
            #expect(error.line == 3 && error.message.contains("1 to 63 printable ASCII"), "\(error)")
        }
    }

    @Test("lease_duration defaults to 30s and is bounded to 5s–10m")
    func leaseDuration() throws {
        #expect(try parse("[cluster]\nlease_duration = \"2m\"\n").cluster.leaseDuration == .seconds(120))
        #expect(try parse("[cluster]\nlease_duration = \"5s\"\n").cluster.leaseDuration == .seconds(5))
        #expect(try parse("[cluster]\nlease_duration = \"10m\"\n").cluster.leaseDuration == .seconds(600))
        for bad in ["4s", "11m", "soon"] {
            let error = try #require(failure("[cluster]\nlease_duration = \"\(bad)\"\n"), "\(bad) was accepted")
            #expect(error.line == 2 && error.message.contains("cluster.lease_duration"), "\(error)")
        }
        #expect(failure("[cluster]\nleases = 3\n")?.message.contains("unknown key \"leases\"") == true)
    }

    @Test("a change of any database, cluster or node key needs a restart")
    func restartOnly() throws {
        try withDirectory { directory in
            let path = directory + "/pw"
            try write("one\n", to: path, mode: 0o600)
            let base = database("postgresql://ts@db/ts", "password_file = \"\(path)\"\n")
            let running = try parse(base)
            #expect(running.keysNeedingRestart(comparedTo: try parse(base)).isEmpty)
            let changes: [(String, String)] = [
                (database("postgresql://ts@db2/ts", "password_file = \"\(path)\"\n"), "database.url"),
                (base + "tls = \"require\"\n", "database.tls"),
                (base + "ca_file = \"\(path)\"\n", "database.ca_file"),
                (base + "[cluster]\nlease_duration = \"1m\"\n", "cluster.lease_duration"),
                (base + "[daemon]\nnode_name = \"other\"\n", "daemon.node_name"),
            ]
            for (text, key) in changes {
                #expect(running.keysNeedingRestart(comparedTo: try parse(text)) == [key])
            }
            // A new password in the same file is a change too (as for the other secrets).
            try write("two\n", to: path, mode: 0o600)
            #expect(running.keysNeedingRestart(comparedTo: try parse(base)) == ["database.password_file"])
        }
    }
}
