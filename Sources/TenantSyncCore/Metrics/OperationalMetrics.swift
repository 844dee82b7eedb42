/// What the daemon reports as it works, for the metrics endpoint.
///
/// The daemon defines this interface and calls it where events happen; the metrics adapter
/// (`TenantSyncMetrics`) implements it. Every method is synchronous and cheap (a counter
/// increment), so a caller on a hot path never waits for the exporter. Labels are bounded
/// vocabularies: no user, group, run or alert id ever reaches a metric.
public protocol OperationalMetrics: Sendable {
    /// A token refresh ended; `duration` is the request to Microsoft.
    func tokenRefreshFinished(result: TokenRefreshResult, duration: Duration)
    /// A sync run ended (succeeded, failed or held).
    func syncRunFinished(trigger: SyncTrigger, mode: SyncMode, result: SyncRunState, duration: Duration)
    /// One HTTP request to Microsoft Graph was answered (`status` nil: no answer, e.g. a timeout).
    func graphRequestFinished(status: Int?, resourceUnits: Int, duration: Duration)
    /// One attempt to deliver an alert to a channel (`journal`, `smtp`, `hook:NAME`) ended.
    func alertDeliveryFinished(channel: String, delivered: Bool)
}

/// How a token refresh ended, as the `result` label of `tenantsync_token_refreshes_total`.
public enum TokenRefreshResult: String, Sendable, CaseIterable {
    case ok
    /// Retried later (429, 5xx, timeouts, an unrecognized error below its limit).
    case transient
    /// The grant was marked invalid.
    case permanent
}
