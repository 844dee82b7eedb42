import Foundation

/// Runs a real child process and collects its output.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum ProcessRunner {
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
        // Output goes to files, not pipes: no pipe can fill up, and no read is interrupted by a signal.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("proc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("stdout")
        let errURL = directory.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        return ProcessResult(
            status: process.terminationStatus,
            stdout: try String(contentsOf: outURL, encoding: .utf8),
            stderr: try String(contentsOf: errURL, encoding: .utf8)
        )
    }

    /// Runs a shell command line (for setup steps like useradd).
    @discardableResult
    static func shell(_ command: String) throws -> ProcessResult {
        try run("/bin/sh", ["-c", command])
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

    static func ensure() throws {
        try ProcessRunner.shell("getent group \(group) >/dev/null || groupadd --system \(group)")
        try ProcessRunner.shell("id -u \(outsider) >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin \(outsider)")
        try ProcessRunner.shell("id -u \(member) >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin -G \(group) \(member)")
    }

    static func ids(of user: String) throws -> (uid: String, gid: String) {
        let uid = try ProcessRunner.shell("id -u \(user)").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let gid = try ProcessRunner.shell("id -g \(user)").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return (uid, gid)
    }

    /// Runs a command as `user` with only its primary group (no supplementary groups in the process).
    static func run(as user: String, _ command: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        let (uid, gid) = try ids(of: user)
        var env = ["PATH": "/usr/bin:/bin"]
        env.merge(environment) { $1 }
        return try ProcessRunner.run("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--"] + command, environment: env)
    }
}
