import ControlPlane
import Foundation
import M365Emulator
import Testing
import TestSupport

/// a reload (`tenantsyncctl reload`, as `systemctl reload` runs it) puts every key it reports as
/// applied in force in the running daemon, proved against the real daemon, the emulator and real channels.
@Suite("Reload applies for real", .serialized)
struct ReloadDaemonTests {
    static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test("a client secret rotated in Entra ID and in the same secret file is used by the next refreshes after a reload, with no alert")
    func rotatedClientSecret() async throws {
        // 70-second access tokens: each grant is refreshed every 35 seconds (half its lifetime, the schedule's floor);
        // shorter ones would not be handed out at all (the daemon keeps 30 seconds of life for the caller).
        let settings = TenantSettings(accessTokenLifetimeSeconds: 70, deviceCodeIntervalSeconds: 1)
        try await ProvisioningHarness.with(tenantSettings: settings) { h in
            let provisioned = try await h.provision("exchange-online", ["--scope", "all"], approvals: [true, true])
            try #require(provisioned.status == 0, "\(provisioned.all)")
            let account = try #require(try await h.account("exchange-online"))

            // The rotation as Microsoft documents it: add a new secret to the app (application: addPassword), switch the
            // daemon to it, then remove the old one (application: removePassword). From then on only the new one works.
            let newSecret = "rotated-secret-\(UUID().uuidString.prefix(8))"
            try h.emulator.addSecret(tenant: h.tenant.id, appId: EmulatorDefaults.clientID, secret: newSecret)
            try Self.write(newSecret + "\n", to: h.clientSecretPath)
            let reload = try await h.ctl(["reload"])
            #expect(reload.status == 0, "\(reload.all)")
            #expect(reload.stdout.contains("Applied now: microsoft.client_secret_file"), "the same file's new content is a change: \(reload.all)")
            #expect(!reload.all.contains(newSecret))
            try h.emulator.removeSecret(tenant: h.tenant.id, appId: EmulatorDefaults.clientID, secret: EmulatorDefaults.clientSecret)

            // The next refreshes of both grants succeed: Microsoft issued tokens against the new secret only, and the
            // daemon stored them (each grant's expiry moved past what it was when the old secret went).
            let before = try await h.detail(account.id).grants
            let issuedBefore = try h.emulator.counters(tenant: h.tenant.id)["token.issued"] ?? 0
            let refreshed = try await eventually(timeout: .seconds(75), "a refresh of each grant with the new secret") {
                let issued = (try h.emulator.counters(tenant: h.tenant.id)["token.issued"] ?? 0) - issuedBefore
                let grants = try await h.detail(account.id).grants
                let moved = grants.allSatisfy { grant in
                    guard let old = before.first(where: { $0.id == grant.id })?.token?.expiresAt, let new = grant.token?.expiresAt else { return false }
                    return new > old
                }
                return issued >= 2 && moved
            }
            let grants = try await h.detail(account.id).grants
            let counters = try h.emulator.counters(tenant: h.tenant.id)
            #expect(refreshed, "no refreshes with the new secret: grants \(grants), counters \(counters)")
            #expect(grants.count == 2 && grants.allSatisfy { $0.state == .valid }, "\(grants)")
            let tokenAlerts = try await h.alerts().filter { $0.kind.hasPrefix("token-") }
            #expect(tokenAlerts.isEmpty, "a rotation done right raises no alert: \(tokenAlerts.map(\.subject))")
            #expect(!h.daemon.log.contains(newSecret), "the new secret reached the daemon's log")
        }
    }

    @Test("a hook added by a reload gets the next alert, and once a reload removed it, it gets none")
    func hookAddedThenRemoved() async throws {
        try await ProvisioningHarness.with { h in
            let original = Self.read(h.configPath)
            let second = h.directory + "/second.jsonl"
            let withSecond = original + """

                [[hooks]]
                name = "second"
                command = ["/bin/sh", "-c", "cat >> \(second); echo >> \(second)"]

                """
            try Self.write(withSecond, to: h.configPath)
            let added = try await h.ctl(["reload"])
            #expect(added.status == 0 && added.stdout.contains("Applied now: hooks"), "\(added.all)")

            // The next alert reaches both hooks.
            let provisioned = try await h.provision("teams-chat")
            #expect(provisioned.status == 0, "\(provisioned.all)")
            let both = try await eventually(timeout: .seconds(20), "both hooks get the alert") {
                Self.read(h.directory + "/alerts.jsonl").contains("Teams Chat protected.") && Self.read(second).contains("Teams Chat protected.")
            }
            #expect(both, "record: \(Self.read(h.directory + "/alerts.jsonl").suffix(300)) second: \(Self.read(second).suffix(300))")

            // Removed by a reload: the next alert is queued and delivered for the remaining channels only.
            try Self.write(original, to: h.configPath)
            let removed = try await h.ctl(["reload"])
            #expect(removed.status == 0 && removed.stdout.contains("Applied now: hooks"), "\(removed.all)")
            let account = try #require(try await h.account("teams-chat"))
            let deprovisioned = try await h.ctl(["deprovision", "\(account.id)"])
            #expect(deprovisioned.status == 0, "\(deprovisioned.all)")
            let recorded = try await eventually(timeout: .seconds(20), "the remaining hook gets the alert") {
                Self.read(h.directory + "/alerts.jsonl").contains("Teams Chat service account removed.")
            }
            #expect(recorded, "the remaining hook never got the alert raised after the reload")
            let alert = try #require(try await h.alerts().first { $0.kind == "account-deprovisioned" })
            #expect(!alert.deliveries.map(\.channel).contains("hook:second"), "queued for a removed hook: \(alert.deliveries)")
            #expect(!Self.read(second).contains("Teams Chat service account removed."), "the removed hook still ran")
        }
    }

    @Test("SMTP settings changed by a reload: the next alert is mailed by the new server, not the old one")
    func smtpServerChanged() async throws {
        let first = try PlainSMTPServer()
        let second = try PlainSMTPServer()
        defer { first.stop(); second.stop() }
        try await first.start()
        try await second.start()
        let smtp = """
            [smtp]
            host = "127.0.0.1"
            port = \(first.port)
            security = "none"
            from = "tenantsync@example.org"
            to = ["admin@example.org"]
            """
        try await ProvisioningHarness.with(extraConfig: smtp) { h in
            let provisioned = try await h.provision("teams-chat")
            #expect(provisioned.status == 0, "\(provisioned.all)")
            let mailedFirst = try await eventually(timeout: .seconds(20), "the first server gets the first mail") {
                try first.messages().contains { ($0["subject"] as? String)?.contains("Teams Chat protected.") == true }
            }
            #expect(mailedFirst, "the first server never got the alert mail")

            let config = Self.read(h.configPath)
            try Self.write(config.replacingOccurrences(of: "port = \(first.port)", with: "port = \(second.port)"), to: h.configPath)
            let reload = try await h.ctl(["reload"])
            #expect(reload.status == 0 && reload.stdout.contains("Applied now: smtp.port"), "\(reload.all)")

            let account = try #require(try await h.account("teams-chat"))
            #expect(try await h.ctl(["deprovision", "\(account.id)"]).status == 0)
            let mailedSecond = try await eventually(timeout: .seconds(20), "the second server gets the next mail") {
                try second.messages().contains { ($0["subject"] as? String)?.contains("Teams Chat service account removed.") == true }
            }
            #expect(mailedSecond, "the server configured by the reload never got the next mail")
            let alert = try #require(try await h.alerts().first { $0.kind == "account-deprovisioned" })
            #expect(alert.deliveries.first { $0.channel == "smtp" }?.state == .delivered, "\(alert.deliveries)")
            let firstSubjects = try first.messages().compactMap { $0["subject"] as? String }
            #expect(firstSubjects.count == 1 && !firstSubjects.contains { $0.contains("removed") }, "the old server still got mail: \(firstSubjects)")
        }
    }
}
