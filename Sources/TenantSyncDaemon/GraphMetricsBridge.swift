import MicrosoftCloud
import TenantSyncCore

/// Passes the Graph client's per-request reports to the daemon's metrics.
///
/// The Graph client knows only its own small observer protocol, and the metrics adapter only the
/// daemon's interface; the daemon joins them here rather than letting one adapter import the other.
struct GraphMetricsBridge: GraphRequestObserver {
    let metrics: any OperationalMetrics

    func graphRequestFinished(status: Int?, resourceUnits: Int, duration: Duration) {
        metrics.graphRequestFinished(status: status, resourceUnits: resourceUnits, duration: duration)
    }
}
