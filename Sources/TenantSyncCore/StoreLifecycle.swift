/// What the composition root needs of a store besides the services' protocols: its schema, its health,
/// wake-ups when the alert outbox changes, and its end.
///
/// Both stores implement it (SQLite embedded, PostgreSQL for several daemons), so the daemon opens one and
/// never names either.
public protocol StoreLifecycle: Sendable {
    /// The schema version recorded in the database.
    func schemaVersion() async throws -> Int
    /// Answers when the database answers; the watchdog's health check.
    func ping() async throws
    /// Calls `onChange` after every committed change to the alert outbox, whoever wrote it, until the
    /// returned observation is cancelled.
    func observeAlertOutbox(_ onChange: @escaping @Sendable () -> Void) -> StoreObservation
    /// Ends the store's connections; nothing is written after it returns.
    func close() async throws
}

/// A running observation of a store; it stops when cancelled or released.
public final class StoreObservation: Sendable {
    private let stop: @Sendable () -> Void

    public init(stop: @escaping @Sendable () -> Void) { self.stop = stop }

    public func cancel() { stop() }

    deinit { stop() }
}
