import Synchronization

/// Counts the SQL statements the store executes, on every connection.
///
/// Fed by SQLite's statement trace; the control path's cost is stated as a number of
/// queries independent of the number of tenants, and tests and the fleet benchmark
/// check that number through this counter. Counting is one atomic add per statement.
public final class StatementCounter: Sendable {
    private let count = Atomic<Int>(0)

    init() {}

    func increment() { count.add(1, ordering: .relaxed) }

    /// Statements executed since the store opened (migrations and connection set-up included).
    public var value: Int { count.load(ordering: .relaxed) }
}
