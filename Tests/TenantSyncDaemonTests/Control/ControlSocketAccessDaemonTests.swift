import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Who the real daemon lets drive it over its control socket.
@Suite(.serialized)
struct ControlSocketAccessDaemonTests {
    @Test func aProcessRunningAsTheDaemonsOwnUserIsRefusedAndRootIsServed() async throws {
        // The daemon runs as an unprivileged user, as under systemd (User=tenantsync); a hook runs as that user too.
        let (uid, gid) = try await TestUsers.ensure(TestUsers.outsider)
        // The control group is the daemon user's own primary group, as under the shipped unit (User= and
        // Group=tenantsync, control_group = "tenantsync"): being in the group must not let the daemon's user in.
        let group = try await ChildProcess.shell("id -gn \(TestUsers.outsider)").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let sandbox = try DaemonSandbox()
        try sandbox.writeConfig("control_group = \"\(group)\"")
        try await ChildProcess.shell("chown -R \(uid):\(gid) \(sandbox.path)")
        let socket = sandbox.path + "/control"
        let daemon = try DaemonProcess(
            arguments: ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--", DaemonProcess.executable, "--config", sandbox.configPath],
            executable: "/usr/bin/setpriv"
        )
        #expect(await daemon.waitUntilServing(socket: socket), "never started: \(daemon.log)")
        let ctl = DaemonProcess.binDirectory.appendingPathComponent("tenantsyncctl").path

        let sameUser = try await TestUsers.run(as: TestUsers.outsider, [ctl, "--socket", socket, "status"])
        #expect(sameUser.status == 77, "a process of the daemon's own (non-root) user, in the control group, was served: \(sameUser.all)")
        #expect(sameUser.stderr.contains("PermissionDenied"), "\(sameUser.all)")
        let root = try await ChildProcess.run(ctl, ["--socket", socket, "status"])
        #expect(root.status == 0, "\(root.all)")

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0, "log: \(daemon.log.suffix(2000))")
    }
}
