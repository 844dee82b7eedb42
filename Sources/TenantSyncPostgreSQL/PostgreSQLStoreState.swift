import PostgresNIO
import Synchronization

/// The PostgreSQL store's own mutable state: whether it was closed, how to stop its pool, and the observers of the
/// alert outbox in this process.
final class PostgreSQLStoreState: Sendable {
    private struct Fields {
        var closed = false
        var stopPool: (@Sendable () -> Void)?
        var nextObserverID = 0
        var outboxObservers: [Int: @Sendable () -> Void] = [:]
        /// The connection holding the node-name lock, closed with the store.
        var nodeNameConnection: PostgresConnection?
    }

    private let fields = Mutex(Fields())

    var isClosed: Bool { fields.withLock { $0.closed } }

    /// Remembers how to stop the running pool; stops it at once when the store is already closed.
    func poolStarted(stop: @escaping @Sendable () -> Void) {
        let closed = fields.withLock { fields in
            fields.stopPool = stop
            return fields.closed
        }
        if closed { stop() }
    }

    func close() {
        let stop = fields.withLock { fields in
            fields.closed = true
            defer { fields.stopPool = nil }
            return fields.stopPool
        }
        stop?()
    }

    func keepNodeNameConnection(_ connection: PostgresConnection) {
        fields.withLock { $0.nodeNameConnection = connection }
    }

    func takeNodeNameConnection() -> PostgresConnection? {
        fields.withLock { fields in
            defer { fields.nodeNameConnection = nil }
            return fields.nodeNameConnection
        }
    }

    func addOutboxObserver(_ onChange: @escaping @Sendable () -> Void) -> Int {
        fields.withLock { fields in
            fields.nextObserverID += 1
            fields.outboxObservers[fields.nextObserverID] = onChange
            return fields.nextObserverID
        }
    }

    func removeOutboxObserver(_ id: Int) {
        _ = fields.withLock { $0.outboxObservers.removeValue(forKey: id) }
    }

    /// Calls every observer, outside the lock.
    func outboxChanged() {
        let observers = fields.withLock { Array($0.outboxObservers.values) }
        for observer in observers { observer() }
    }
}
