import ControlPlane
import Foundation
import M365Emulator
import Systemd
import TenantSyncCore
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Against the real daemon: socket activation by `systemd-socket-activate`, MESSAGE_IDs
/// read back from a real journald, and the alert outbox surviving a daemon restart during an
/// SMTP outage.
@Suite("systemd integration of the real daemon", .serialized)
struct SystemdIntegrationDaemonTests {
    @Test("systemd-socket-activate passes a listening socket: the daemon serves it and creates none of its own")
    func socketActivation() async throws {
        let activate = "/usr/bin/systemd-socket-activate"
        try #require(FileManager.default.isExecutableFile(atPath: activate), "\(activate) is missing (Debian package systemd)")
        let sandbox = try DaemonSandbox()
        try sandbox.writeConfig()
        let activated = sandbox.path + "/activated"
        let configured = sandbox.path + "/control"
        let daemon = try DaemonProcess(
            arguments: ["--listen=" + activated, DaemonProcess.executable, "--config", sandbox.configPath], executable: activate
        )
        let listening = try await eventually(timeout: .seconds(10), "systemd-socket-activate listens") {
            FileManager.default.fileExists(atPath: activated)
        }
        try #require(listening, "systemd-socket-activate never created \(activated): \(daemon.log)")
        #expect(!daemon.log.contains("tenantsyncd started"), "the daemon must start only at the first connection")

        // The first connection makes systemd-socket-activate exec the daemon with the socket as fd 3.
        let info = try await ControlClient.withConnection(to: activated) { try await $0.info() }
        #expect(info.product == "tenantsyncd")
        #expect(info.interfaces == ["org.varlink.service", "io.tenantsync.Control"])
        let status = try await ControlClient.withConnection(to: activated) { try await $0.status() }
        #expect(status.accounts.total == 0)
        #expect(await daemon.waitForLog("tenantsyncd started"), "\(daemon.log)")
        #expect(daemon.log.contains("inherited"), "the daemon did not report the inherited socket: \(daemon.log)")
        #expect(!FileManager.default.fileExists(atPath: configured), "the daemon created its own socket at \(configured) although one was passed")

        daemon.signal(SIGTERM)
        #expect(await daemon.waitForExit() == 0, "\(daemon.log)")
        // The socket belongs to whoever passed it: the daemon does not unlink it on the way out.
        #expect(FileManager.default.fileExists(atPath: activated))
        withExtendedLifetime(sandbox) {}
    }

    @Test("daemon started/reloaded/stopping, sync started/finished/failed, scope extended, account protected, token renewed and alert delivery failing carry their MESSAGE_ID in a real journal")
    func messageIDsInTheJournal() async throws {
        let deadPort = try freeLoopbackPort()
        let config = """
            log_target = "journal"

            # Nobody listens here: every mail delivery fails, which the journal must say.
            [smtp]
            host = "127.0.0.1"
            port = \(deadPort)
            security = "none"
            from = "tenantsync@example.org"
            to = ["admin@example.org"]
            """
        try await Journald.with {
            try await ProvisioningHarness.with(extraConfig: config) { h in
                let user = try #require(try h.emulator.users(tenant: h.tenant.id, limit: 1).first)
                let provisioned = try await h.provision("exchange-online", ["--scope", "selected", "--user", user.userPrincipalName], approvals: [true, true])
                #expect(provisioned.status == 0, "\(provisioned.all)")
                let extend = try await h.ctl(["extend", "--tenant", h.tenant.domain, "--wait"])
                #expect(extend.status == 0, "\(extend.all)")
                let reload = try await h.ctl(["reload"])
                #expect(reload.status == 0, "\(reload.all)")

                // Graph refuses the directory (403, not retried): the manual sync fails and the CLI exits 75.
                try h.emulator.addFault(FaultRule(tenant: h.tenant.id, path: "/users", kind: .status, status: 403))
                let failing = try await h.ctl(["sync", "--tenant", h.tenant.domain, "--wait"], timeout: .seconds(30))
                #expect(failing.status == 75, "\(failing.all)")
                #expect(failing.stderr.contains("failed"), "\(failing.all)")
                h.emulator.clearFaults()

                // Renewing the account raises token-renewed; the outbox writes it to the journal before the stop.
                let account = try #require(try await h.account("exchange-online"))
                let renewed = try await h.ctl(["renew", "\(account.id)", "--device-code"], approvals: [true, true])
                #expect(renewed.status == 0, "\(renewed.all)")
                let journaled = try await eventually(timeout: .seconds(20), "token-renewed reaches the journal channel") {
                    try await h.alerts().contains { alert in
                        alert.kind == "token-renewed" && alert.deliveries.contains { $0.channel == "journal" && $0.state == .delivered }
                    }
                }
                let alertsNow = try await h.alerts().map { "\($0.kind) \($0.deliveries)" }
                #expect(journaled, "\(alertsNow)")
                h.daemon.signal(SIGTERM)
                #expect(await h.daemon.waitForExit() == 0, "\(h.daemon.log)")

                func entries(_ id: MessageID, atLeast count: Int = 1) async throws -> [[String: Any]] {
                    try await h.daemon.journalEntries(matching: ["MESSAGE_ID=\(id.rawValue)"], atLeast: count)
                }
                let started = try await entries(.daemonStarted)
                #expect(started.count == 1 && started.first?["MESSAGE"] as? String == "tenantsyncd started", "\(started)")
                #expect(started.first?["SYSLOG_IDENTIFIER"] as? String == "tenantsyncd")
                let stopping = try await entries(.daemonStopping)
                #expect(stopping.count == 1 && stopping.first?["MESSAGE"] as? String == "tenantsyncd stopping", "\(stopping)")
                let reloaded = try await entries(.daemonReloaded)
                #expect(reloaded.count == 1 && reloaded.first?["MESSAGE"] as? String == "Configuration reloaded", "\(reloaded)")

                // Provisioning ran one sync and extend another, each started and finished; the manual one started and failed.
                let syncStarted = try await entries(.syncStarted, atLeast: 3)
                let syncFinished = try await entries(.syncFinished, atLeast: 2)
                #expect(syncStarted.count == 3 && syncFinished.count == 2, "started \(syncStarted.count), finished \(syncFinished.count)")
                for entry in syncStarted + syncFinished {
                    #expect(entry["TENANT"] as? String == h.tenant.id, "\(entry)")
                    #expect((entry["SYNC_RUN"] as? String).flatMap { Int($0) } != nil, "\(entry)")
                }
                #expect(syncStarted.compactMap { $0["SYNC_TRIGGER"] as? String } == ["provision", "extend", "manual"], "\(syncStarted)")
                let finishedRuns = Set(syncFinished.compactMap { $0["SYNC_RUN"] as? String })
                #expect(finishedRuns == Set(syncStarted.prefix(2).compactMap { $0["SYNC_RUN"] as? String }), "\(finishedRuns)")
                #expect(syncFinished.allSatisfy { $0["PRIORITY"] as? String == "6" })

                let extended = try await entries(.scopeExtended)
                #expect(extended.count == 1 && extended.first?["TENANT"] as? String == h.tenant.id, "\(extended)")

                // The account-protected alert reaches the journal through the outbox's journal channel.
                let protected = try await entries(.accountProtected)
                #expect(protected.first?["MESSAGE"] as? String == "Exchange Online protected.", "\(protected)")
                let syncFailed = try await entries(.syncFailed)
                #expect(syncFailed.count == 1 && syncFailed.first?["TENANT"] as? String == h.tenant.id, "\(syncFailed)")
                #expect(syncFailed.first?["SYNC_RUN"] as? String == syncStarted.last?["SYNC_RUN"] as? String, "the failed run is the manual one")
                #expect((syncFailed.first?["SYNC_ERROR"] as? String)?.isEmpty == false, "the catalog's @SYNC_ERROR@ needs the field: \(syncFailed)")
                #expect(syncFailed.first?["PRIORITY"] as? String == "3")

                let tokenRenewed = try await entries(.tokenRenewed)
                #expect(tokenRenewed.count >= 1, "\(tokenRenewed)")
                let deliveryFailing = try await entries(.alertDeliveryFailing)
                #expect(deliveryFailing.contains { $0["ALERT_CHANNEL"] as? String == "smtp" && ($0["ERROR"] as? String)?.isEmpty == false }, "\(deliveryFailing)")
            }
        }
    }

    @Test("an alert raised while SMTP is down is mailed after a daemon restart once the server is back, and its delivery is recorded")
    func outboxAcrossARestart() async throws {
        let smtp = try PlainSMTPServer()
        defer { smtp.stop() }
        let extra = AlertChannelProbe.smtpConfig(smtp)
        try await ProvisioningHarness.with(extraConfig: extra) { h in
            // Nobody listens on the SMTP port yet.
            let provisioned = try await h.provision("teams-chat")
            #expect(provisioned.status == 0, "\(provisioned.all)")
            func smtpDelivery() async throws -> DeliveryInfo? {
                try await h.alerts().first { $0.subject == "Teams Chat protected." }?.deliveries.first { $0.channel == "smtp" }
            }
            let failed = try await eventually(timeout: .seconds(30), "the first SMTP attempt fails") {
                guard let delivery = try await smtpDelivery() else { return false }
                return delivery.state == .pending && delivery.attempts >= 1 && delivery.lastError != nil
            }
            let beforeRestart = try await smtpDelivery()
            #expect(failed, "the SMTP delivery never failed while the server was down: \(String(describing: beforeRestart))")

            // Stop the daemon (SIGTERM) with the mail still in the outbox, and start it again.
            h.daemon.signal(SIGTERM)
            #expect(await h.daemon.waitForExit() == 0, "\(h.daemon.log.suffix(2000))")
            #expect(try smtp.messages().isEmpty)
            let restarted = try DaemonProcess(arguments: ["--config", h.directory + "/tenantsyncd.toml"])
            try #require(await restarted.waitUntilServing(socket: h.socket), "the daemon did not come back: \(restarted.log)")
            let stillPending = try await smtpDelivery()
            #expect(stillPending?.state == .pending, "the restart lost or faked the delivery: \(String(describing: stillPending))")

            // The mail server comes back; the outbox's next retry (backoff from 24 to 30 s) delivers.
            try await smtp.start()
            let arrived = try await eventually(timeout: .seconds(120), "the mail arrives") {
                try smtp.messages().contains { $0["subject"] as? String == "[tenantsync] Teams Chat protected." }
            }
            #expect(arrived, "the alert never reached the SMTP server; daemon log: \(restarted.log.suffix(2000))")
            let delivered = try await eventually(timeout: .seconds(20), "the delivery is recorded") {
                try await smtpDelivery()?.state == .delivered
            }
            let final = try await smtpDelivery()
            #expect(delivered, "\(String(describing: final))")
            #expect((final?.attempts ?? 0) >= 2, "one failed attempt before the restart, one that delivered: \(String(describing: final))")
            let mails = try smtp.messages().filter { $0["subject"] as? String == "[tenantsync] Teams Chat protected." }
            #expect(mails.count >= 1, "at least once")
            #expect(mails.first?["to"] as? [String] == ["admin@example.org"], "\(mails)")
            #expect(mails.first?["kind"] as? String == "account-protected", "\(mails)")
            let alertID = try await h.alerts().first { $0.subject == "Teams Chat protected." }?.id
            #expect(alertID != nil && mails.allSatisfy { $0["alert_id"] as? String == alertID.map { String($0) } }, "the mail is that alert: \(mails)")
            restarted.signal(SIGTERM)
            #expect(await restarted.waitForExit() == 0, "\(restarted.log.suffix(2000))")
        }
    }
}

/// Debian's aiosmtpd (`python3-aiosmtpd`, run by `/usr/bin/python3`) without TLS or AUTH, on a fixed loopback
/// port chosen before it starts, so the daemon can be configured while nothing listens there yet.
// @unchecked: driven by one test at a time; `process` is touched only by start and stop.
final class PlainSMTPServer: @unchecked Sendable {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("AlertingTests/Fixtures").path

    let directory: String
    let port: Int
    private var process: Process?

    init() throws {
        directory = "/tmp/tsd-smtp-" + String(UUID().uuidString.prefix(8))
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        port = try freeLoopbackPort()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    var maildir: String { directory + "/maildir" }

    func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Self.fixtures + "/smtp_server.py", "--port", String(port), "--maildir", maildir, "--mode", "plain"]
        let ready = directory + "/ready"
        FileManager.default.createFile(atPath: ready, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: ready))
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let up = try await eventually(timeout: .seconds(20), "aiosmtpd prints READY") {
            ((try? String(contentsOfFile: ready, encoding: .utf8)) ?? "").contains("READY") || !process.isRunning
        }
        try #require(up && process.isRunning, "aiosmtpd did not start (is python3-aiosmtpd installed?)")
    }

    func stop() {
        process?.stopGracefully()
        process = nil
    }

    /// The received messages, parsed by Python's `email` package (the Alerting tests' reader).
    func messages() throws -> [[String: Any]] {
        guard FileManager.default.fileExists(atPath: maildir + "/new") else { return [] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Self.fixtures + "/read_maildir.py", maildir]
        let output = directory + "/read-\(UUID().uuidString.prefix(6)).json"
        FileManager.default.createFile(atPath: output, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: output) }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let data = try Data(contentsOf: URL(fileURLWithPath: output))
        return try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
    }
}
