import Credentials
import Foundation
import Logging
import ServiceLifecycle
import Testing
import TestSupport
import TenantSyncCore
import TenantSyncStore
@testable import TenantSyncDaemon

/// Credential expiry alerts with a real store: 30, 7 and 1 days ahead and at expiry, each once, through every
/// channel, with wall time and the check timer both under the test's control.
@Suite("Credential expiry alerts", .serialized)
struct CredentialExpiryMonitorTests {
    static let channels = ["journal", "smtp", "hook:pager"]
    static let day: TimeInterval = 86_400

    struct Fixture {
        let store: SQLiteStore
        let wall: TestWallClock
        let clock: ManualClock
        let monitor: CredentialExpiryMonitor<ManualClock>
        let logs: LogCapture

        func alerts() async throws -> [Alert] {
            try await store.alerts(includeAcknowledged: true, limit: 1000).filter { $0.kind.hasPrefix("credential-") }.reversed()
        }
    }

    static func run(_ body: (Fixture) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("expiry-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logs = LogCapture()
        let store = try SQLiteStore(
            path: directory + "/t.sqlite", sealer: SecretSealer(keyBytes: Array(repeating: 7, count: 32)), logger: logs.logger("store")
        )
        let wall = TestWallClock(Date(timeIntervalSince1970: 1_800_000_000))
        let clock = ManualClock()
        let monitor = CredentialExpiryMonitor(
            store: store, alertChannels: Self.channels, interval: .seconds(3_600), clock: clock, now: { wall.now }, logger: logs.logger("expiry")
        )
        try await body(Fixture(store: store, wall: wall, clock: clock, monitor: monitor, logs: logs))
        try store.close()
    }

    @Test("The product certificate alerts at 30, 7 and 1 days and at expiry, once each, through every channel")
    func productCertificate() async throws {
        try await Self.run { f in
            let expires = f.wall.now.addingTimeInterval(45 * Self.day)
            try await f.store.recordCredentialExpiry(
                CredentialExpiry(credential: CredentialExpiry.product, accountID: nil, kind: .certificate, thumbprint: "AB12", expiresAt: expires),
                at: f.wall.now
            )
            #expect(await f.monitor.check().isEmpty, "45 days left: nothing yet")
            var expected: [(String, Int)] = []
            for (daysBefore, kind, left) in [(30.0, "credential-expiring", 30), (7, "credential-expiring", 7), (1, "credential-expiring", 1), (0, "credential-expired", 0)] {
                f.wall.set(expires.addingTimeInterval(-daysBefore * Self.day))
                #expect(await f.monitor.check().count == 1, "the \(left)-day stage alerts")
                #expect(await f.monitor.check().isEmpty, "and only once")
                f.wall.set(f.wall.now.addingTimeInterval(3_600))
                #expect(await f.monitor.check().isEmpty, "an hour later still nothing new")
                expected.append((kind, left))
            }
            let alerts = try await f.alerts()
            #expect(alerts.map(\.kind) == expected.map(\.0))
            #expect(alerts.map(\.facts.credentialDaysLeft) == expected.map { Optional($0.1) })
            #expect(alerts.allSatisfy { $0.facts.credentialKind == "certificate" && $0.facts.credentialThumbprint == "AB12" })
            #expect(alerts.first?.subject == "The certificate of the tenantsync app expires in 30 days.")
            #expect(alerts.last?.severity == .critical)
            for alert in alerts {
                #expect(try await f.store.deliveries(alertID: alert.id).map(\.channel).sorted() == Self.channels.sorted(), "every channel")
            }
            let nearest = try await f.store.credentialExpiries().first
            #expect(nearest?.alertedDays == 0)
        }
    }

    @Test("A credential first seen 5 days ahead alerts the 7-day stage only; a rotation starts over")
    func lateStartAndRotation() async throws {
        try await Self.run { f in
            let first = f.wall.now.addingTimeInterval(5 * Self.day)
            let secret = CredentialExpiry(credential: CredentialExpiry.product, accountID: nil, kind: .secret, thumbprint: nil, expiresAt: first)
            try await f.store.recordCredentialExpiry(secret, at: f.wall.now)
            let raised = await f.monitor.check()
            #expect(raised.map(\.facts.credentialDaysLeft) == [5], "one alert, with the days actually left")
            #expect(raised.first?.subject == "The client secret of the tenantsync app expires in 5 days.")
            // Recording the same expiry again (a restart, a reload without change) keeps what was alerted.
            try await f.store.recordCredentialExpiry(secret, at: f.wall.now)
            #expect(await f.monitor.check().isEmpty)
            // A new secret with a later expiry: the old alerts no longer apply; the new one alerts at 30 days.
            var rotated = secret
            rotated.expiresAt = first.addingTimeInterval(365 * Self.day)
            try await f.store.recordCredentialExpiry(rotated, at: f.wall.now)
            #expect(await f.monitor.check().isEmpty)
            f.wall.set(rotated.expiresAt.addingTimeInterval(-30 * Self.day))
            #expect(await f.monitor.check().map(\.facts.credentialDaysLeft) == [30])
        }
    }

    @Test("A Teams app's secret alerts with the account's facts and the renew command")
    func teamsAppSecret() async throws {
        try await Self.run { f in
            let tenant = try await f.store.upsertTenant(id: "3f0a8c4e-0000-4000-8000-000000000001", domain: "contoso.com", displayName: nil)
            let account = try await f.store.createAccount(tenantID: tenant.id, service: .teamsChat, appID: "app-1", licensingModel: .a)
            try await f.store.recordCredentialExpiry(
                CredentialExpiry(
                    credential: CredentialExpiry.account(account.id), accountID: account.id, kind: .secret, thumbprint: nil,
                    expiresAt: f.wall.now.addingTimeInterval(Self.day / 2)
                ),
                at: f.wall.now
            )
            let alert = try #require(await f.monitor.check().first)
            #expect(alert.kind == "credential-expiring" && alert.facts.credentialDaysLeft == 1)
            #expect(alert.tenantID == tenant.id && alert.accountID == account.id)
            #expect(alert.facts.tenantDomain == "contoso.com" && alert.facts.credentialAppID == "app-1")
            #expect(alert.facts.command == "tenantsyncctl renew \(account.id) --app-id app-1 --secret-file FILE --secret-expires YYYY-MM-DD")
            #expect(alert.subject == "The client secret of the Teams Chat app of contoso.com expires in 1 day.")
        }
    }

    @Test("The running service checks at start and then once per interval of its clock")
    func runsOnItsClock() async throws {
        try await Self.run { f in
            let expires = f.wall.now.addingTimeInterval(31 * Self.day)
            try await f.store.recordCredentialExpiry(
                CredentialExpiry(credential: CredentialExpiry.product, accountID: nil, kind: .certificate, thumbprint: "CD34", expiresAt: expires),
                at: f.wall.now
            )
            try await withThrowingTaskGroup(of: Void.self) { group throws in
                group.addTask { try await f.monitor.run() }
                #expect(try await eventually("the first check is done and the service sleeps") { f.clock.sleeperCount == 1 })
                #expect(try await f.alerts().isEmpty)
                f.wall.set(f.wall.now.addingTimeInterval(Self.day + 60))
                #expect(try await f.alerts().isEmpty, "wall time alone does not check: the timer does")
                f.clock.advance(by: .seconds(3_600))
                #expect(try await eventually("the 30-day alert after one interval") { try await f.alerts().count == 1 })
                #expect(f.clock.requestedSleeps.allSatisfy { $0 == .seconds(3_600) })
                group.cancelAll()
            }
        }
    }
}
