import GRDBSQLite
import Synchronization

/// Counts the SQL statements the store executes, and the result rows they return, on every connection.
///
/// Fed by SQLite's statement trace; the control path's cost is stated as a number of
/// queries independent of the number of tenants, and tests and the fleet benchmark
/// check that number through this counter. The rows say how much a call reads (a delta
/// sync must not read the whole directory). Counting is one atomic add per statement or row.
public final class StatementCounter: Sendable {
    private let count = Atomic<Int>(0)
    private let rowCount = Atomic<Int>(0)

    init() {}

    func increment() { count.add(1, ordering: .relaxed) }

    func incrementRows() { rowCount.add(1, ordering: .relaxed) }

    /// Statements executed since the store opened (migrations and connection set-up included).
    public var value: Int { count.load(ordering: .relaxed) }

    /// Result rows returned since the store opened (every `SELECT` row, on every connection).
    public var rows: Int { rowCount.load(ordering: .relaxed) }

    /// Installs the trace on one connection: SQLite's `sqlite3_trace_v2` with statement and row events.
    ///
    /// Raw rather than GRDB's `Database.trace`, whose options do not include row events; it replaces any
    /// other trace on the connection (the store sets none). The counter is retained by the connection's
    /// trace for the life of the process: a few bytes per connection.
    func install(on connection: OpaquePointer?) {
        let context = Unmanaged.passRetained(self).toOpaque()
        sqlite3_trace_v2(connection, UInt32(SQLITE_TRACE_STMT | SQLITE_TRACE_ROW), { event, context, _, _ in
            guard let context else { return 0 }
            let counter = Unmanaged<StatementCounter>.fromOpaque(context).takeUnretainedValue()
            if event == UInt32(SQLITE_TRACE_ROW) { counter.incrementRows() } else { counter.increment() }
            return 0
        }, context)
    }
}
