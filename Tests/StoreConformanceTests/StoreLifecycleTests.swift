import Foundation
import Migrations
import PostgreSQLMigrations
import TenantSyncCore
import Testing

/// What the composition root needs of either store: schema version, health, write probe, outbox wake-ups.
@Suite("Store lifecycle on both stores")
struct StoreLifecycleTests {
    @Test(arguments: StoreKind.allCases)
    func schemaVersionIsTheNewestMigrationOfTheKind(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let expected = kind == .sqlite ? SchemaMigrations.latestVersion : PostgreSQLSchemaMigrations.latestVersion
            #expect(try await fixture.store.schemaVersion() == expected)
            try await fixture.store.ping()
        }
    }

    @Test(arguments: StoreKind.allCases)
    func theWriteProbeCommitsOneRow(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            #expect(try await fixture.sql("SELECT count(*) FROM store_write_probe") == ["0"])
            try await fixture.store.probeWrite(at: Date())
            try await fixture.store.probeWrite(at: Date())
            #expect(try await fixture.sql("SELECT count(*) FROM store_write_probe") == ["1"])
        }
    }

    /// The dispatcher sleeps until the observation fires: an alert raised inside a lifecycle step must wake it.
    @Test(arguments: StoreKind.allCases)
    func anIncidentsAlertWakesTheOutboxObserver(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let (_, account, ews, _) = try await fixture.seedExchangeAccount()
            let now = Date()
            try await fixture.store.storeTokenSet(
                grantID: ews.id, tokens: TokenSet(accessToken: Secret("a"), refreshToken: Secret("r"), scopes: [], obtainedAt: now, expiresAt: now),
                nextRefreshAt: now
            )
            let (stream, continuation) = AsyncStream<Void>.makeStream()
            let observation = fixture.store.observeAlertOutbox { continuation.yield() }
            defer { observation.cancel() }
            let outcome = try await fixture.store.invalidateGrant(
                grantID: ews.id, outcome: "permanent: invalid_grant",
                report: IncidentReport(
                    grantID: ews.id, accountID: account.id, kind: .tokenInvalid, error: "invalid_grant", aadstsCode: 70008, traceID: nil,
                    correlationID: nil, seenAt: now
                ),
                alert: { _ in NewAlert(kind: "token-invalid", severity: .critical, subject: "s", body: "b") }, channels: ["journal"]
            )
            #expect(outcome.alert != nil)
            let notified = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    var iterator = stream.makeAsyncIterator()
                    return await iterator.next() != nil
                }
                group.addTask { try? await Task.sleep(for: .seconds(5)); return false }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            #expect(notified, "no wake-up after an alert was stored with an incident")
        }
    }
}
