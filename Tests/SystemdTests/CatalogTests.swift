import Foundation
import Systemd
import TenantSyncCore
import Testing
import TestSupport

/// The journal message catalog `systemd/tenantsync.catalog`, checked with the real `journalctl`.
struct CatalogTests {
    static let catalogPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("systemd/tenantsync.catalog").path

    /// The ids in the catalog file, in order.
    static func catalogIDs() throws -> [String] {
        try String(contentsOfFile: catalogPath, encoding: .utf8)
            .split(separator: "\n")
            .filter { $0.hasPrefix("-- ") }
            .map { String($0.dropFirst(3)).trimmingCharacters(in: .whitespaces) }
    }

    @Test func swiftIDsAndCatalogIDsAreTheSameSet() throws {
        let catalog = try Self.catalogIDs()
        let swift = MessageID.catalog.map(\.id.rawValue)
        #expect(Set(catalog).count == catalog.count, "an id appears twice in the catalog")
        #expect(Set(swift).count == swift.count, "two MessageIDs share an id")
        #expect(Set(catalog) == Set(swift), "catalog-only: \(Set(catalog).subtracting(swift)), Swift-only: \(Set(swift).subtracting(catalog))")
        #expect(swift.allSatisfy { MessageID(rawValue: $0) != nil })
    }

    @Test func journalctlParsesEveryEntry() async throws {
        let root = NSTemporaryDirectory() + "tenantsync-catalog-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let directory = root + "/usr/lib/systemd/catalog"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.catalogPath, toPath: directory + "/tenantsync.catalog")

        _ = try await Journald.journalctl(["--root=\(root)", "--update-catalog"])
        #expect(FileManager.default.fileExists(atPath: root + "/var/lib/systemd/catalog/database"), "journalctl must build the catalog database")
        let listing = try await Journald.journalctl(["--root=\(root)", "--list-catalog"])
        for (name, id) in MessageID.catalog {
            let line = listing.split(separator: "\n").first { $0.hasPrefix(id.rawValue + " ") }
            #expect(line?.contains("tenantsync: ") == true, "\(name) (\(id)) is missing from journalctl --list-catalog")
            let dump = try await Journald.journalctl(["--root=\(root)", "--dump-catalog", id.rawValue])
            #expect(dump.contains("Subject: "), "\(name) has no Subject")
            #expect(dump.contains("Defined-By: tenantsync"))
            #expect(dump.split(separator: "\n").count >= 6, "\(name) has no explanation text")
        }
        let tokenInvalid = try await Journald.journalctl(["--root=\(root)", "--dump-catalog", MessageID.tokenInvalid.rawValue])
        #expect(tokenInvalid.contains("tenantsyncctl renew @ACCOUNT_ID@"), "the token-invalid entry must name the remedy")
    }
}
