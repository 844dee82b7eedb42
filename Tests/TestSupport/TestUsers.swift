import Foundation

/// System users and groups the tests create on demand (the tests run as root), and commands run as them.
public enum TestUsers {
    /// A user outside every control group.
    public static let outsider = "tenantsync-test-nobody"
    /// A user whose supplementary group is ``controlGroup``.
    public static let member = "tenantsync-test-member"
    /// The group the control-socket tests authorise.
    public static let controlGroup = "tenantsync-test-ctl"

    /// Creates the system user `name` (no home, no shell) if missing, optionally in the supplementary `group`
    /// (created first if missing); returns its uid and primary gid.
    @discardableResult
    public static func ensure(_ name: String, group: String? = nil) async throws -> (uid: String, gid: String) {
        var groupOption = ""
        if let group {
            try await ChildProcess.shell("getent group \(group) >/dev/null || groupadd --system \(group)")
            groupOption = " -G \(group)"
        }
        let created = try await ChildProcess.shell(
            "id -u \(name) >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin\(groupOption) \(name)"
        )
        guard created.status == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot create test user \(name): \(created.all)"])
        }
        return try await ids(of: name)
    }

    /// The uid and primary gid of `name`.
    public static func ids(of name: String) async throws -> (uid: String, gid: String) {
        let uid = try await ChildProcess.shell("id -u \(name)").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let gid = try await ChildProcess.shell("id -g \(name)").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return (uid, gid)
    }

    /// Runs `command` as `name` with its primary group only (no supplementary groups in the process).
    public static func run(as name: String, _ command: [String], environment: [String: String] = [:]) async throws -> ChildProcess.Result {
        let (uid, gid) = try await ids(of: name)
        var env = ["PATH": "/usr/bin:/bin"]
        env.merge(environment) { $1 }
        return try await ChildProcess.run("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--"] + command, environment: env)
    }
}
