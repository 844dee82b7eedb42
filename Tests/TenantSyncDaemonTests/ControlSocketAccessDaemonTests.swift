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
        let (uid, gid) = try await OutsiderAccount.ensure()
        let sandbox = try DaemonSandbox()
        try sandbox.writeConfig()
        try await ChildProcess.shell("chown -R \(uid):\(gid) \(sandbox.path)")
        let socket = sandbox.path + "/control"
        let daemon = try DaemonProcess(
            arguments: ["--reuid=\(uid)", "--regid=\(gid)", "--clear-groups", "--", DaemonProcess.executable, "--config", sandbox.configPath],
            executable: "/usr/bin/setpriv"
        )
        #expect(await daemon.waitUntilServing(socket: socket), "never started: \(daemon.log)")
        let ctl = DaemonProcess.binDirectory.appendingPathComponent("tenantsyncctl").path

        let sameUser = try await OutsiderAccount.run([ctl, "--socket", socket, "status"])
        #expect(sameUser.status == 77, "a process of the daemon's own (non-root) user was served: \(sameUser.all)")
        #expect(sameUser.stderr.contains("PermissionDenied"), "\(sameUser.all)")
        let root = try await ChildProcess.run(ctl, ["--socket", socket, "status"])
        #expect(root.status == 0, "\(root.all)")

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0, "log: \(daemon.log.suffix(2000))")
    }
}
