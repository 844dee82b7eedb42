/// Where the metrics endpoint reads the state behind its gauges.
///
/// One call is a fixed number of set-based queries whatever the number of tenants (the
/// endpoint's cost per scrape is O(1) queries).
public protocol MetricsStateSource: Sendable {
    /// The current state; `newAlerts` counts the alerts stored after `alertsAfter` (all of them for 0).
    ///
    /// A source that counts each tenant's changes (``MetricsState/versions``) returns the grants, accounts and
    /// sync facts of only the tenants whose count differs from `knownVersions` (keyed by primary domain), and of
    /// every tenant when `knownVersions` is empty.
    func metricsState(alertsAfter: Int64, knownVersions: [String: Int64]) async throws -> MetricsState
}

extension MetricsStateSource {
    /// The whole state: every tenant's rows.
    public func metricsState(alertsAfter: Int64) async throws -> MetricsState {
        try await metricsState(alertsAfter: alertsAfter, knownVersions: [:])
    }
}
