/// Where the metrics endpoint reads the state behind its gauges.
///
/// One call is a fixed number of set-based queries whatever the number of tenants (the
/// endpoint's cost per scrape is O(1) queries).
public protocol MetricsStateSource: Sendable {
    /// The current state; `newAlerts` counts the alerts stored after `alertsAfter` (all of them for 0).
    func metricsState(alertsAfter: Int64) async throws -> MetricsState
}
