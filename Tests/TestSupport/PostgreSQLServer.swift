import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A private PostgreSQL server for the tests: Debian's PostgreSQL 15 (`scripts/ensure-deps.sh` installs it), its own
/// data directory under the temporary directory, a free loopback port, password authentication and TLS with a CA
/// made for it; run as the unprivileged `postgres` user when the tests run as root (initdb refuses root).
///
/// Started once per test process, on first use, and stopped when the process exits (a watcher stops it too if the
/// process dies without exiting). Tests never share a database: each asks ``createDatabase()`` for a fresh one.
public final class PostgreSQLServer: Sendable {
    public static let binDirectory = "/usr/lib/postgresql/15/bin"
    public let host = "127.0.0.1"
    public let port: Int
    public let user = "tenantsync"
    /// The password of ``user`` (scram-sha-256), made up for this server.
    public let password: String
    /// The CA that signed the server's certificate (for `verify-full`); the certificate names `localhost` and 127.0.0.1.
    public let caFile: String
    public let directory: String
    /// `runuser -u postgres --` as root; nothing otherwise.
    private let runAs: [String]
    /// `pg_ctl start`'s server options (port, TLS, …), kept for ``start()`` after ``stop()``.
    private let options: String

    public struct StartFailed: Error, CustomStringConvertible { public var description: String }

    private static let startup = Task { try await PostgreSQLServer.launch() }
    private static let databaseCounter = Mutex(0)

    /// The server of this test process, started on first use.
    public static func shared() async throws -> PostgreSQLServer {
        try await startup.value
    }

    private init(port: Int, password: String, directory: String, runAs: [String], options: String) {
        self.runAs = runAs
        self.options = options
        self.port = port
        self.password = password
        self.directory = directory
        caFile = directory + "/tls/ca.crt"
    }

    /// Creates an empty database with a name of its own and returns the name.
    public func createDatabase() async throws -> String {
        let number = Self.databaseCounter.withLock { counter in
            counter += 1
            return counter
        }
        let name = "test_\(getpid())_\(number)_\(UInt32.random(in: 0...UInt32.max))"
        _ = try await psql(database: "postgres", "CREATE DATABASE \(name)")
        return name
    }

    /// Runs SQL through `psql` (unaligned, tuples only) and returns its output: the tests' view of the raw rows.
    public func psql(database: String, _ sql: String) async throws -> String {
        var environment = ProcessInfo.processInfo.environment
        environment["PGPASSWORD"] = password
        environment["PGSSLMODE"] = "disable"
        let result = try await ChildProcess.run(
            Self.binDirectory + "/psql",
            ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", "\(port)", "-U", user, "-d", database, "-c", sql],
            environment: environment
        )
        guard result.status == 0 else { throw StartFailed(description: "psql failed (\(result.status)): \(result.stderr)") }
        return result.stdout
    }

    // MARK: Start and stop

    /// A server of the caller's own, for a test that stops and starts it (``stop()``, ``start()``); stopped at exit.
    public static func dedicated() async throws -> PostgreSQLServer {
        try await launch()
    }

    /// Stops the server at once (`pg_ctl -m fast`): its clients' connections end, new ones are refused.
    public func stop() async throws {
        try await Self.run(runAs + [Self.binDirectory + "/pg_ctl", "-D", directory + "/data", "-m", "fast", "-w", "stop"], what: "pg_ctl stop")
    }

    /// Starts the server again after ``stop()``, on the same port with the same data.
    public func start() async throws {
        try await Self.run(
            runAs + [Self.binDirectory + "/pg_ctl", "-D", directory + "/data", "-l", directory + "/log", "-o", options, "-w", "-t", "60", "start"],
            what: "pg_ctl start"
        )
    }

    private static func launch() async throws -> PostgreSQLServer {
        guard FileManager.default.isExecutableFile(atPath: binDirectory + "/initdb") else {
            throw StartFailed(description: "PostgreSQL 15 is not installed (\(binDirectory)/initdb); run scripts/ensure-deps.sh (apt-get install postgresql)")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tenantsync-pg-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory + "/tls", withIntermediateDirectories: true)
        let password = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 36) }.joined()
        try password.write(toFile: directory + "/pwfile", atomically: true, encoding: .utf8)
        try await makeCertificates(in: directory + "/tls")
        let runAs = try unprivilegedPrefix(owning: directory)
        try await run(runAs + [binDirectory + "/initdb", "-D", directory + "/data", "-U", "tenantsync", "--auth=scram-sha-256",
                               "--pwfile=" + directory + "/pwfile", "-E", "UTF8", "--no-sync"], what: "initdb")
        var lastError = ""
        for _ in 0..<3 {
            let port = try freeLoopbackPort()
            let options = [
                "-p \(port)", "-k \(directory)", "-c listen_addresses=127.0.0.1", "-c max_connections=300",
                "-c ssl=on", "-c ssl_cert_file=\(directory)/tls/server.crt", "-c ssl_key_file=\(directory)/tls/server.key",
                // A test server: losing it on a power cut costs nothing, and fsync would make every CREATE DATABASE slow.
                "-c fsync=off",
            ].joined(separator: " ")
            let command = runAs + [binDirectory + "/pg_ctl", "-D", directory + "/data", "-l", directory + "/log", "-o", options, "-w", "-t", "60", "start"]
            let started = try await ChildProcess.run(command[0], Array(command.dropFirst()))
            if started.status == 0 {
                let server = PostgreSQLServer(port: port, password: password, directory: directory, runAs: runAs, options: options)
                registerStop(runAs: runAs, directory: directory)
                return server
            }
            lastError = started.all + ((try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? "")
        }
        throw StartFailed(description: "PostgreSQL did not start: \(lastError.suffix(1500))")
    }

    /// `runuser -u postgres --` as root, with the directory given to `postgres`; nothing otherwise.
    private static func unprivilegedPrefix(owning directory: String) throws -> [String] {
        guard geteuid() == 0 else { return [] }
        guard let account = getpwnam("postgres") else {
            throw StartFailed(description: "no postgres user; install Debian's postgresql package (scripts/ensure-deps.sh)")
        }
        let (uid, gid) = (account.pointee.pw_uid, account.pointee.pw_gid)
        let enumerator = FileManager.default.enumerator(atPath: directory)
        chown(directory, uid, gid)
        while let entry = enumerator?.nextObject() as? String { chown(directory + "/" + entry, uid, gid) }
        return ["/usr/sbin/runuser", "-u", "postgres", "--"]
    }

    private static func makeCertificates(in directory: String) async throws {
        let openssl = "/usr/bin/openssl"
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try await run([openssl, "req", "-x509"] + ec + ["-keyout", directory + "/ca.key", "-out", directory + "/ca.crt",
                       "-days", "2", "-subj", "/CN=tenantsync test CA"], what: "openssl (CA)")
        try await run([openssl, "req"] + ec + ["-keyout", directory + "/server.key", "-out", directory + "/server.csr",
                       "-subj", "/CN=localhost"], what: "openssl (server key)")
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\n".write(toFile: directory + "/san.ext", atomically: true, encoding: .utf8)
        try await run([openssl, "x509", "-req", "-in", directory + "/server.csr", "-CA", directory + "/ca.crt", "-CAkey", directory + "/ca.key",
                       "-CAcreateserial", "-out", directory + "/server.crt", "-days", "2", "-extfile", directory + "/san.ext"],
                      what: "openssl (server certificate)")
        chmod(directory + "/server.key", 0o600)
    }

    private static func run(_ command: [String], what: String) async throws {
        let result = try await ChildProcess.run(command[0], Array(command.dropFirst()))
        guard result.status == 0 else { throw StartFailed(description: "\(what) failed (\(result.status)): \(result.all.suffix(1500))") }
    }

    /// The stop command, run at exit; and a watcher that runs it if this process dies without exiting.
    private static func registerStop(runAs: [String], directory: String) {
        let stop = runAs + [binDirectory + "/pg_ctl", "-D", directory + "/data", "-m", "immediate", "-w", "stop"]
        let first = stopCommands.withLock { commands in
            defer { commands.append((stop, directory)) }
            return commands.isEmpty
        }
        if first {
            atexit {
                for (command, directory) in PostgreSQLServer.stopCommands.withLock({ $0 }) {
                    PostgreSQLServer.spawnAndWait(command)
                    PostgreSQLServer.spawnAndWait(["/bin/rm", "-rf", directory])
                }
            }
        }
        let quoted = (stop.map { "'\($0)'" }.joined(separator: " "))
        let watcher = "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; if [ -d '\(directory)' ]; then \(quoted) >/dev/null 2>&1; rm -rf '\(directory)'; fi"
        spawn(["/usr/bin/setsid", "/bin/sh", "-c", watcher], wait: false)
    }

    /// Every server this process started: stopped, and their directories removed, at exit.
    private static let stopCommands = Mutex<[([String], String)]>([])

    private static func spawnAndWait(_ command: [String]) { spawn(command, wait: true) }

    private static func spawn(_ command: [String], wait: Bool) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, command[0], &actions, nil, argv, environ) == 0, wait else { return }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }
}
