import Foundation
import TestSupport

extension ChildProcess {
    /// The daemon tests' fixtures (scripts for the third-party clients).
    static var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")
    }
}

/// A system user outside every control group, created on demand (the tests run as root).
enum OutsiderAccount {
    static let name = "tenantsync-test-nobody"

    static func ensure() async throws -> (uid: String, gid: String) {
        try await ChildProcess.shell("id -u \(name) >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin \(name)")
        let uid = try await ChildProcess.shell("id -u \(name)").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let gid = try await ChildProcess.shell("id -g \(name)").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return (uid, gid)
    }

    /// Runs a command as the outsider, with its primary group only.
    static func run(_ command: [String]) async throws -> ChildProcess.Result {
        let (uid, gid) = try await ensure()
        return try await ChildProcess.run("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--"] + command, environment: ["PATH": "/usr/bin:/bin"])
    }
}
