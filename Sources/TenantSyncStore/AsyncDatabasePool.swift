import GRDB

/// The store's `DatabasePool`, reachable from async code only through GRDB's non-blocking accessors.
///
/// GRDB offers a blocking `read`/`write` next to each async one. A closure whose result is not
/// `Sendable` (a `Row`, say) silently selects the blocking overload even under `try await`, and a
/// cooperative thread blocked waiting for a reader connection can deadlock the process: the readers
/// are held by tasks that need a cooperative thread to give them back (the token refresher stopped
/// for good that way with 32 refreshes in flight). Only async accessors exist here, so such a
/// closure fails to compile instead.
struct AsyncDatabasePool: Sendable {
    /// The pool itself, for synchronous work outside the cooperative pool: start-up, shutdown, observation.
    let blocking: DatabasePool

    func read<T: Sendable>(_ value: @Sendable (Database) throws -> T) async throws -> T {
        try await blocking.read(value)
    }

    func write<T: Sendable>(_ updates: @Sendable (Database) throws -> T) async throws -> T {
        try await blocking.write(updates)
    }

    func writeWithoutTransaction<T: Sendable>(_ updates: @Sendable (Database) throws -> T) async throws -> T {
        try await blocking.writeWithoutTransaction(updates)
    }
}
