import GRDB
import TenantSyncCore

extension SQLiteStore: StoreLifecycle {
    /// Calls `onChange` after every committed transaction that touched the alert outbox.
    ///
    /// Whoever enqueues an alert (the token refresher inside its own transaction,
    /// the sync engine, the control socket), the dispatcher is woken without polling.
    public func observeAlertOutbox(_ onChange: @escaping @Sendable () -> Void) -> StoreObservation {
        // `alerts`, not `alert_deliveries`: SQLite's update hook, which GRDB observes, is not
        // called for WITHOUT ROWID tables, and every enqueue inserts an alert row.
        let observation = DatabaseRegionObservation(tracking: Table("alerts"))
        let cancellable = ObservationCancellable(observation.start(in: pool.blocking, onError: { _ in }, onChange: { _ in onChange() }))
        return StoreObservation { cancellable.cancel() }
    }
}

/// Carries GRDB's cancellable into the store-neutral observation.
final class ObservationCancellable: @unchecked Sendable {
    // @unchecked: AnyDatabaseCancellable is thread-safe (GRDB documents cancel() as callable from any thread).
    private let cancellable: AnyDatabaseCancellable

    init(_ cancellable: AnyDatabaseCancellable) { self.cancellable = cancellable }

    func cancel() { cancellable.cancel() }
}
