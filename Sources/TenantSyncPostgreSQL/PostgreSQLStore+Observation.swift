import TenantSyncCore

extension PostgreSQLStore {
    /// Calls `onChange` after every committed change to the alert outbox made through this store.
    ///
    /// In this process only: wake-ups between nodes (LISTEN/NOTIFY) are helper pgstore2's part of issue #17 and
    /// extend this.
    public func observeAlertOutbox(_ onChange: @escaping @Sendable () -> Void) -> StoreObservation {
        let id = state.addOutboxObserver(onChange)
        return StoreObservation { [state] in state.removeOutboxObserver(id) }
    }
}
