import Alerting
import Foundation
import Systemd
import TenantSyncCore
import Testing
import TestSupport

/// Alerts written to a real journald, read back by MESSAGE_ID and explained by the catalog (`journalctl -x`).
@Suite(.serialized)
struct JournalAlertChannelTests {
    static let catalogPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("systemd/tenantsync.catalog").path

    @Test func tokenInvalidAlertCarriesFieldsAndTheCatalogExplainsIt() async throws {
        let directory = try TestAlerts.temporaryDirectory()
        let store = try TestAlerts.makeStore(directory: directory)
        let alert = try await store.enqueueAlert(TestAlerts.tokenInvalid(tenant: "contoso-\(UUID().uuidString.prefix(8)).com"), channels: ["journal"], at: Date())
        let domain = try #require(alert.facts.tenantDomain)

        try await Journald.with {
            try await JournalAlertChannel().deliver(alert)
            let entries = try await Journald.entries(matching: ["MESSAGE_ID=\(MessageID.tokenInvalid)", "TENANT_DOMAIN=\(domain)"])
            let entry = try #require(entries.first, "the alert must be in the journal under its MESSAGE_ID")
            #expect(entries.count == 1)
            #expect(entry["MESSAGE"] as? String == alert.subject)
            #expect(entry["PRIORITY"] as? String == "2")
            #expect(entry["SYSLOG_IDENTIFIER"] as? String == "tenantsyncd")
            #expect(entry["TENANT"] as? String == "8f3c0e51-0000-4000-8000-000000000001")
            #expect(entry["SERVICE"] as? String == "exchange-online")
            #expect(entry["SERVICE_NAME"] as? String == "Exchange Online")
            #expect(entry["COMMAND"] as? String == "tenantsyncctl renew 17")
            #expect(entry["ACCOUNT_ID"] as? String == "17")
            #expect(entry["GRANT"] as? String == "graph")
            #expect(entry["AADSTS_CODE"] as? String == "70008")
            #expect(entry["CORRELATION_ID"] as? String == "c0ffee00-1111-2222-3333-444455556666")
            #expect(entry["OAUTH_ERROR"] as? String == "invalid_grant")
            #expect(entry["TRACE_ID"] as? String == "0d2e5c1a-7b1f-4c59-9d0e-2b7c1c3f9a00")
            #expect(entry["ALERT_ID"] as? String == String(alert.id))
            #expect(entry["ALERT_KIND"] as? String == "token-invalid")

            // journalctl -x reads the catalog database at its fixed path: build one from our catalog
            // and mount it there inside a private mount namespace, leaving the machine's untouched.
            let root = directory + "/root"
            try FileManager.default.createDirectory(atPath: root + "/usr/lib/systemd/catalog", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: Self.catalogPath, toPath: root + "/usr/lib/systemd/catalog/tenantsync.catalog")
            _ = try await Journald.journalctl(["--root=\(root)", "--update-catalog"])
            let explained = try await Journald.journalctl([
                "--mount", "sh", "-c",
                "mount -t tmpfs tmpfs /var/lib/systemd/catalog && cp \"$0/var/lib/systemd/catalog/database\" /var/lib/systemd/catalog/database && exec journalctl -x --no-pager \"$1\" \"$2\"",
                root, "MESSAGE_ID=\(MessageID.tokenInvalid)", "TENANT_DOMAIN=\(domain)",
            ], executable: "/usr/bin/unshare")
            #expect(explained.contains("Subject: Access token of the exchange-online service account of tenant 8f3c0e51-0000-4000-8000-000000000001 is invalid"), "journalctl -x output: \(explained)")
            #expect(explained.contains("tenantsyncctl renew 17"), "the remedy must name the account: \(explained)")
            #expect(explained.contains("error invalid_grant, AADSTS70008, trace id"), "journalctl -x output: \(explained)")
        }
    }
}
