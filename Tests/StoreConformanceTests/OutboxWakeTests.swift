import Credentials
import Foundation
import Logging
import Synchronization
import TenantSyncCore
import TenantSyncPostgreSQL
import TestSupport
import Testing

/// The alert dispatcher sleeps until the outbox observation fires: on both stores for an alert stored through the
/// same store, and on PostgreSQL for one stored by another connection pool (another daemon), through LISTEN/NOTIFY.
@Suite("Outbox observation")
struct OutboxWakeTests {
    /// (Moved from TenantSyncStoreTests/RoundTripTests.swift.)
    @Test(arguments: StoreKind.allCases) func enqueueingAnAlertNotifiesTheObserver(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let wakes = WakeCount()
            let observation = fixture.store.observeAlertOutbox { wakes.add() }
            defer { observation.cancel() }
            _ = try await fixture.store.enqueueAlert(NewAlert(kind: "account-protected", severity: .info, subject: "s", body: "b"), channels: ["journal"], at: .now)
            #expect(
                try await eventually(timeout: .seconds(5), "woken") { wakes.value > 0 },
                "no change notification after enqueueAlert: the dispatcher would never wake"
            )
        }
    }

    @Test func anAlertStoredThroughAnotherStoreInstanceWakesTheObserver() async throws {
        try await StoreKind.postgresql.withStore { fixture in
            guard case .postgresql(let server, let database) = fixture.raw else { Issue.record("not PostgreSQL"); return }
            let other = PostgreSQLStore(
                settings: server.settings(database: database), sealer: try SecretSealer(keyBytes: StoreKind.key), logger: Logger(label: "test")
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await other.run() }
                defer { group.cancelAll() }
                try await other.prepare()
                let wakes = WakeCount()
                let observation = fixture.store.observeAlertOutbox { wakes.add() }
                defer { observation.cancel() }
                // Both stores' listeners are registered (a notification sent before LISTEN is not delivered).
                let listening = try await eventually(timeout: .seconds(10), "listening") {
                    let count = try await server.psql(
                        database: database,
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                    )
                    return Int(count.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 >= 2
                }
                #expect(listening, "the two stores never listened on the outbox channel")
                #expect(wakes.value == 0, "woken before any alert was stored")
                _ = try await other.enqueueAlert(NewAlert(kind: "account-protected", severity: .info, subject: "s", body: "b"), channels: ["journal"], at: .now)
                #expect(
                    try await eventually(timeout: .seconds(10), "woken") { wakes.value > 0 },
                    "an alert stored through another store instance did not wake this store's observer"
                )
                try await other.close()
            }
        }
    }
}

/// Counts the observer's calls (an `Atomic` cannot be captured by the observer's closure itself).
private final class WakeCount: Sendable {
    private let count = Atomic<Int>(0)

    func add() { count.add(1, ordering: .relaxed) }

    var value: Int { count.load(ordering: .relaxed) }
}
