import Logging
import PostgresNIO
import TenantSyncCore

/// Wake-ups of the alert outbox from every connection to the database, this process's and other daemons' alike.
///
/// Migration 0002 (`Migrations/postgresql/0002_alert_outbox_notify.sql`) notifies ``outboxChannel`` from a trigger on
/// `alerts`, so an alert stored by any connection, however it was written, reaches the listener once committed.
extension PostgreSQLStore {
    static let outboxChannel = "tenantsync_alert_outbox"

    /// Listens on one pooled connection until the calling task is cancelled or the store is closed; after a lost
    /// connection, listens again after `retryDelay`.
    ///
    /// Each time listening starts again after a lost connection the observers are woken once: an alert stored while
    /// nobody listened would otherwise wait for the next one. (At the first start the dispatcher reads the outbox
    /// itself.)
    func listenForOutbox(retryDelay: Duration = .seconds(1)) async {
        var relistening = false
        while !Task.isCancelled, !state.isClosed {
            do {
                try await client.withConnection { [state, relistening] connection in
                    try await connection.listen(on: Self.outboxChannel) { notifications in
                        if relistening { state.outboxChanged() }
                        for try await _ in notifications { state.outboxChanged() }
                    }
                }
            } catch {
                if Task.isCancelled || state.isClosed { return }
                logger.warning(
                    "postgresql.outbox.listen-lost",
                    metadata: ["error.message": "\(PostgreSQLErrorText.describe(error))", "retry.delay": "\(retryDelay)"]
                )
            }
            relistening = true
            try? await Task.sleep(for: retryDelay)
        }
    }
}
