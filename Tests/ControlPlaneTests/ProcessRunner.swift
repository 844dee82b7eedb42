import Foundation

/// Runs a real child process and collects its output.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum ProcessRunner {
    /// Spawns a process with stdin from /dev/null and its output in files, and waits for it.
    ///
    /// posix_spawn and a waitpid on a Dispatch thread: the wait never blocks
    /// the cooperative pool the server under test runs on, and no pipe can fill up.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> ProcessResult {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("proc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outPath = directory.appendingPathComponent("stdout").path
        let errPath = directory.appendingPathComponent("stderr").path

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

        let env = environment ?? ProcessInfo.processInfo.environment
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot run \(executable): \(String(cString: strerror(spawned)))"])
        }
        let child = pid
        let status: Int32 = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var status: Int32 = 0
                while waitpid(child, &status, 0) == -1 && errno == EINTR {}
                continuation.resume(returning: status)
            }
        }
        let exitCode = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return ProcessResult(
            status: exitCode,
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        )
    }

    /// Runs a shell command line (for setup steps like useradd).
    @discardableResult
    static func shell(_ command: String) async throws -> ProcessResult {
        try await run("/bin/sh", ["-c", command])
    }

    /// Finds an executable on PATH.
    static func which(_ name: String) -> String? {
        for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// The directory holding the built products (tenantsyncctl sits next to the test bundle).
    static var productsDirectory: URL {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = bundle.deletingLastPathComponent()
        while directory.path != "/" && !FileManager.default.fileExists(atPath: directory.appendingPathComponent("tenantsyncctl").path) {
            directory = directory.deletingLastPathComponent()
        }
        return directory
    }

    static var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }
}

/// Test users and groups created on demand (tests run as root).
enum TestAccounts {
    static let outsider = "tenantsync-test-nobody"
    static let member = "tenantsync-test-member"
    static let group = "tenantsync-test-ctl"

    static func ensure() async throws {
        try await ProcessRunner.shell("getent group \(group) >/dev/null || groupadd --system \(group)")
        try await ProcessRunner.shell("id -u \(outsider) >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin \(outsider)")
        try await ProcessRunner.shell("id -u \(member) >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin -G \(group) \(member)")
    }

    static func ids(of user: String) async throws -> (uid: String, gid: String) {
        let uid = try await ProcessRunner.shell("id -u \(user)").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let gid = try await ProcessRunner.shell("id -g \(user)").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return (uid, gid)
    }

    /// Runs a command as `user` with only its primary group (no supplementary groups in the process).
    static func run(as user: String, _ command: [String], environment: [String: String] = [:]) async throws -> ProcessResult {
        let (uid, gid) = try await ids(of: user)
        var env = ["PATH": "/usr/bin:/bin"]
        env.merge(environment) { $1 }
        return try await ProcessRunner.run("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--"] + command, environment: env)
    }
}
