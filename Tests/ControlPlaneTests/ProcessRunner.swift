import Foundation
import TestSupport

/// A finished child process: its exit status and output.
typealias ProcessResult = ChildProcess.Result

/// Real child processes for the control-plane tests (the shared ``ChildProcess`` runner).
enum ProcessRunner {
    /// Spawns a process with stdin from /dev/null and its output in files, and waits for it off the cooperative pool.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> ProcessResult {
        try await ChildProcess.run(executable, arguments, environment: environment)
    }

    /// Runs a shell command line (for setup steps like useradd).
    @discardableResult
    static func shell(_ command: String) async throws -> ProcessResult {
        try await ChildProcess.shell(command)
    }

    /// Finds an executable on PATH.
    static func which(_ name: String) -> String? {
        ChildProcess.which(name)
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
