import ControlPlane
import Foundation
import M365Emulator
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// a database that cannot be written must not cost a refresh token. The real daemon keeps its state on a
/// small tmpfs of its own; the test fills it while refreshes are due, then frees it.
@Suite("The database refuses writes", .serialized)
struct StoreWriteFailureDaemonTests {
    /// Fills the file system holding `path` with one file until it is full (dd stops at ENOSPC).
    static func fill(_ path: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/dd")
        process.arguments = ["if=/dev/zero", "of=\(path)", "bs=64k"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
    }

    static func freeBytes(_ path: String) -> UInt64 {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return .max }
        return UInt64(stats.f_bavail) * UInt64(stats.f_frsize)
    }

    @Test("a full state file system pauses token refreshes: no refresh token is redeemed and lost, status says so, and refreshes resume when space returns")
    func fullStateFileSystem() async throws {
        // 70-second access tokens: each grant falls due 35 seconds after it was obtained.
        let settings = TenantSettings(accessTokenLifetimeSeconds: 70, deviceCodeIntervalSeconds: 1)
        // A systemd watchdog of two seconds (no NOTIFY_SOCKET: the daemon logs its health check's verdicts).
        try await ProvisioningHarness.with(
            tenantSettings: settings, stateFileSystemBytes: 16 << 20, environment: ["WATCHDOG_USEC": "2000000"]
        ) { h in
            let provisioned = try await h.provision("exchange-online", ["--scope", "all"], approvals: [true, true])
            try #require(provisioned.status == 0, "\(provisioned.all)")
            let account = try #require(try await h.account("exchange-online"))
            let stateDirectory = h.directory + "/state"

            // Full before the grants fall due.
            let filler = stateDirectory + "/filler"
            try Self.fill(filler)
            #expect(Self.freeBytes(stateDirectory) == 0, "the state file system is not full")
            let redeemedBefore = try h.emulator.counters(tenant: h.tenant.id)["token.refresh_token"] ?? 0
            let grantsBefore = try await h.detail(account.id).grants

            // The refresher's write probe fails when the grants fall due; it probes again (backing off) and says so.
            let paused = try await eventually(timeout: .seconds(75), "the daemon reports the database not writable twice in a row") {
                (try await h.withClient { try await $0.status() }.storeWriteFailure?.failures ?? 0) >= 2
            }
            let failure = try await h.withClient { try await $0.status() }.storeWriteFailure
            #expect(paused, "the daemon never reported the full database: \(String(describing: failure))")
            let status = try await h.ctl(["status"])
            #expect(status.stdout.contains("DATABASE NOT WRITABLE"), "\(status.all)")

            // The watchdog's health check includes the write: systemd would see a daemon that cannot persist as unhealthy.
            #expect(await h.daemon.waitForLog("Health check failed; watchdog pings withheld"), "the watchdog kept pinging while the database refused writes")

            // Meanwhile no refresh token was redeemed: none was lost with a successor the daemon could not store.
            let redeemedWhileFull = (try h.emulator.counters(tenant: h.tenant.id)["token.refresh_token"] ?? 0) - redeemedBefore
            #expect(redeemedWhileFull == 0, "\(redeemedWhileFull) refresh tokens redeemed while the database refused writes")
            let grantsWhileFull = try await h.detail(account.id).grants
            #expect(grantsWhileFull.allSatisfy { $0.state == .valid }, "\(grantsWhileFull)")

            // Space returns: the next probe succeeds, both grants are refreshed and stored, and nothing was raised.
            try FileManager.default.removeItem(atPath: filler)
            let resumed = try await eventually(timeout: .seconds(60), "refreshes resume and are stored") {
                let status = try await h.withClient { try await $0.status() }
                let grants = try await h.detail(account.id).grants
                let moved = grants.allSatisfy { grant in
                    guard let old = grantsBefore.first(where: { $0.id == grant.id })?.token?.expiresAt, let new = grant.token?.expiresAt else { return false }
                    return new > old
                }
                return status.storeWriteFailure == nil && moved
            }
            let grantsAfter = try await h.detail(account.id).grants
            #expect(resumed, "refreshes did not resume once space returned: \(grantsAfter)")
            #expect(grantsAfter.allSatisfy { $0.state == .valid }, "\(grantsAfter)")
            let tokenAlerts = try await h.alerts().filter { $0.kind.hasPrefix("token-") }
            #expect(tokenAlerts.isEmpty, "\(tokenAlerts.map(\.subject))")
            #expect(h.daemon.log.contains("The database refuses writes"), "the log does not say why refreshes paused")
            #expect(h.daemon.log.contains("The database accepts writes again"), "the log does not say refreshes resumed")
            #expect(await h.daemon.waitForLog("Health check passes again; watchdog pings resumed"), "the watchdog did not resume")
        }
    }
}
