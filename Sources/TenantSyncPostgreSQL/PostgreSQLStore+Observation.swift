import TenantSyncCore

extension PostgreSQLStore {
    /// Calls `onChange` after every committed change to the alert outbox made through this store, and after every
    /// alert stored by any other connection to the database (another daemon's too) while ``run()`` runs: see
    /// `PostgreSQLStore+OutboxListener.swift`.
    public func observeAlertOutbox(_ onChange: @escaping @Sendable () -> Void) -> StoreObservation {
        let id = state.addOutboxObserver(onChange)
        return StoreObservation { [state] in state.removeOutboxObserver(id) }
    }
}
