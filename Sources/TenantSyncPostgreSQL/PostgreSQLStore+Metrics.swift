import Foundation
import TenantSyncCore

// TEMPORARY SCAFFOLD (session 6, issue #17): helper pgstore2 replaces this file with the real MetricsStateSource in the
// same session. Until then every method throws `storeUnavailable` so that the PostgreSQL store compiles behind the
// protocols; it is not an implementation and must not ship.
extension PostgreSQLStore: MetricsStateSource {
    public func metricsState(alertsAfter: Int64) async throws -> MetricsState {
        throw Self.notImplemented("the metrics state")
    }
}
