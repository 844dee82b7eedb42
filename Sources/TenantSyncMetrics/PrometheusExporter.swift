import CoreMetrics
import Foundation
import Logging
import NIOCore
import Prometheus
import Synchronization
import TenantSyncCore

/// One scrape's body: the event metrics, then the state gauges, sent one after the other as they are.
public struct MetricsExposition: Sendable {
    public var parts: [ByteBuffer]

    /// The whole text (tests read it; the endpoint sends ``parts``).
    public var text: String { parts.map { String(buffer: $0) }.joined() }
}

/// The daemon's metrics in the Prometheus text exposition format.
///
/// Two halves. Events (token refreshes, sync runs, Graph requests, alert deliveries) are
/// swift-metrics counters and timers whose handlers live in a long-lived swift-prometheus
/// registry, bumped by the daemon as they happen. State (token expiries, account states,
/// sync times, the outbox) is read from the store in one ``MetricsStateSource`` call and
/// written afresh by ``StateExposition`` (a registry is quadratic in series per family, see
/// there), so a grant or tenant that disappears leaves no stale series; that read is cached
/// for `maximumStateAge`, so a scrape costs at most one read whatever the scrape rate or the
/// number of tenants.
public final class PrometheusExporter: OperationalMetrics, Sendable {
    /// The `Content-Type` of ``exposition()``.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private let events = PrometheusCollectorRegistry()
    private let source: any MetricsStateSource
    private let channels: @Sendable () -> [String]
    private let refreshMargin: @Sendable () -> Duration
    private let maximumStateAge: Duration
    private let logger: Logger
    private let cache = Mutex(StateCache())

    private let refreshes: [TokenRefreshResult: CoreMetrics.Counter]
    private let refreshDuration: CoreMetrics.Timer
    private let syncRuns: [String: CoreMetrics.Counter]
    private let syncDurations: [String: CoreMetrics.Timer]
    private let graphRequests: [String: CoreMetrics.Counter]
    private let graphThrottled: CoreMetrics.Counter
    private let graphResourceUnits: CoreMetrics.Counter
    private let graphDuration: CoreMetrics.Timer

    private struct StateCache {
        var state = ByteBuffer()
        var readAt: ContinuousClock.Instant?
        /// The newest alert already counted in `tenantsync_alerts_total`.
        var alertCursor: Int64 = 0
    }

    /// - Parameters:
    ///   - version: the daemon's version, the `version` label of `tenantsync_build_info`.
    ///   - node: `[daemon] node_name`, the `node` label of `tenantsync_node_info` (none: no such series).
    ///   - source: where the state gauges are read (the store).
    ///   - channels: the alert channels in force, so that an empty outbox still reports 0 per channel.
    ///   - refreshMargin: `[tokens] refresh_margin` in force (the token-expiry rule compares with it).
    ///   - maximumStateAge: how long one state read serves scrapes.
    public init(
        version: String, node: String? = nil, source: any MetricsStateSource, channels: @escaping @Sendable () -> [String],
        refreshMargin: @escaping @Sendable () -> Duration, maximumStateAge: Duration = .seconds(5), logger: Logger
    ) {
        self.source = source
        self.channels = channels
        self.refreshMargin = refreshMargin
        self.maximumStateAge = maximumStateAge
        self.logger = logger
        let events = self.events
        events.makeGauge(descriptor: Self.named("tenantsync_build_info", "Always 1; the version label is the running tenantsyncd's."), labels: [("version", version)])
            .set(to: 1)
        if let node {
            events.makeGauge(descriptor: Self.named("tenantsync_node_info", "Always 1; the node label is this daemon's [daemon] node_name."), labels: [("node", node)])
                .set(to: 1)
        }

        // Every label value of a bounded vocabulary is registered up front: a series that exists at 0 lets
        // `rate()` and `increase()` see the first event.
        var refreshes: [TokenRefreshResult: CoreMetrics.Counter] = [:]
        for result in TokenRefreshResult.allCases {
            refreshes[result] = Self.counter(
                events, "tenantsync_token_refreshes_total", [("result", result.rawValue)],
                "Token refreshes by result: ok, transient (retried later) or permanent (the grant became invalid)."
            )
        }
        self.refreshes = refreshes
        self.refreshDuration = Self.timer(
            events, "tenantsync_token_refresh_duration_seconds", [], Self.requestBuckets,
            "Duration of token refresh requests to the Microsoft identity platform."
        )
        var syncRuns: [String: CoreMetrics.Counter] = [:]
        var syncDurations: [String: CoreMetrics.Timer] = [:]
        for trigger in SyncTrigger.allCases {
            for mode in SyncMode.allCases {
                for result in [SyncRunState.succeeded, .failed, .held] {
                    syncRuns[Self.syncKey(trigger, mode, result)] = Self.counter(
                        events, "tenantsync_sync_runs_total",
                        [("trigger", trigger.rawValue), ("mode", mode.rawValue), ("result", result.rawValue)],
                        "Directory sync runs ended, by trigger, mode and result (succeeded, failed, held)."
                    )
                }
                syncDurations[Self.syncKey(trigger, mode, nil)] = Self.timer(
                    events, "tenantsync_sync_duration_seconds", [("trigger", trigger.rawValue), ("mode", mode.rawValue)],
                    Self.syncBuckets, "Duration of directory sync runs, by trigger and mode."
                )
            }
        }
        self.syncRuns = syncRuns
        self.syncDurations = syncDurations
        var graphRequests: [String: CoreMetrics.Counter] = [:]
        for statusClass in Self.statusClasses {
            graphRequests[statusClass] = Self.counter(
                events, "tenantsync_graph_requests_total", [("status_class", statusClass)],
                "Microsoft Graph requests by HTTP status class (2xx, 3xx, 4xx, 5xx; error: no answer)."
            )
        }
        self.graphRequests = graphRequests
        self.graphThrottled = Self.counter(
            events, "tenantsync_graph_throttled_total", [], "Microsoft Graph requests answered 429 (throttled)."
        )
        self.graphResourceUnits = Self.counter(
            events, "tenantsync_graph_resource_units_total", [],
            "Microsoft Graph resource units spent (x-ms-resource-unit, or the documented cost where Graph did not say)."
        )
        self.graphDuration = Self.timer(
            events, "tenantsync_graph_request_duration_seconds", [], Self.requestBuckets, "Duration of Microsoft Graph requests."
        )
    }

    // MARK: OperationalMetrics

    public func tokenRefreshFinished(result: TokenRefreshResult, duration: Duration) {
        refreshes[result]?.increment()
        refreshDuration.recordNanoseconds(Self.nanoseconds(duration))
    }

    public func syncRunFinished(trigger: SyncTrigger, mode: SyncMode, result: SyncRunState, duration: Duration) {
        syncRuns[Self.syncKey(trigger, mode, result)]?.increment()
        syncDurations[Self.syncKey(trigger, mode, nil)]?.recordNanoseconds(Self.nanoseconds(duration))
    }

    public func graphRequestFinished(status: Int?, resourceUnits: Int, duration: Duration) {
        graphRequests[Self.statusClass(status)]?.increment()
        if status == 429 { graphThrottled.increment() }
        if resourceUnits > 0 { graphResourceUnits.increment(by: resourceUnits) }
        graphDuration.recordNanoseconds(Self.nanoseconds(duration))
    }

    public func alertDeliveryFinished(channel: String, delivered: Bool) {
        deliveryCounter(channel: channel, result: delivered ? "delivered" : "failed").increment()
    }

    // MARK: Exposition

    /// The whole exposition: the event metrics, then the state gauges (read at most once per `maximumStateAge`).
    public func exposition() async -> MetricsExposition {
        let state = await stateBuffer()
        var events: [UInt8] = []
        self.events.emit(into: &events)
        return MetricsExposition(parts: [ByteBuffer(bytes: events), state])
    }

    private func stateBuffer() async -> ByteBuffer {
        let now = ContinuousClock.now
        let (cached, cursor, expiredReadAt) = cache.withLock { cache -> (ByteBuffer?, Int64, ContinuousClock.Instant?) in
            if let readAt = cache.readAt, readAt.duration(to: now) < maximumStateAge { return (cache.state, cache.alertCursor, nil) }
            return (nil, cache.alertCursor, cache.readAt)
        }
        if let cached { return cached }
        let state: MetricsState
        do {
            state = try await source.metricsState(alertsAfter: cursor)
        } catch {
            // The event metrics are still served; the last state stays until a read succeeds.
            logger.error("Metrics state could not be read", metadata: ["error": "\(error)"])
            return cache.withLock { $0.state }
        }
        // The read succeeded: the old text can go before the new one is written, so that a fleet's (tens of megabytes)
        // is not held twice at the peak (a scrape still sending it keeps its own reference). Unless a scrape that read
        // at the same time has stored its text meanwhile.
        cache.withLock { cache in
            if cache.readAt == expiredReadAt { cache.state = ByteBuffer() }
        }
        let rendered = render(state)
        let counted = cache.withLock { cache -> Bool in
            // Two scrapes may read at once: only the one that read from the current cursor counts its alerts.
            guard cache.alertCursor == cursor else { return false }
            cache.alertCursor = state.newestAlertID
            cache.state = rendered
            cache.readAt = now
            return true
        }
        if counted {
            for alerts in state.newAlerts {
                Self.counter(
                    events, "tenantsync_alerts_total", [("kind", alerts.kind), ("severity", alerts.severity)], Self.alertsHelp
                ).increment(by: alerts.count)
            }
        }
        return rendered
    }

    /// The state gauges of one read, written afresh (series of deleted grants or tenants vanish).
    func render(_ state: MetricsState) -> ByteBuffer {
        var out = StateExposition(capacity: Self.estimatedBytes(state))
        out.family("tenantsync_token_refresh_margin_seconds", "The configured [tokens] refresh_margin: grants are refreshed this long before expiry.")
        out.sample(.integer(Int(refreshMargin().components.seconds)))

        // Per grant, one family at a time (the format wants a family's samples together): four passes over the grants.
        // Pending grants (a consent still open) have no token yet.
        out.family("tenantsync_grant_valid", "1 while the grant works, 0 once Microsoft refused it (renew the account).")
        for grant in state.grants where grant.state != .pending {
            out.sample("tenant", grant.tenant, "service", grant.service.rawValue, "grant", grant.grant, .integer(grant.state == .valid ? 1 : 0))
        }
        out.family("tenantsync_token_expiration_timestamp_seconds", "When the grant's access token expires (Unix time).")
        for grant in state.grants where grant.state != .pending {
            guard let expiresAt = grant.expiresAt else { continue }
            out.sample("tenant", grant.tenant, "service", grant.service.rawValue, "grant", grant.grant, .timestamp(expiresAt))
        }
        out.family("tenantsync_token_next_refresh_timestamp_seconds", "When the grant's next refresh is due (Unix time).")
        for grant in state.grants where grant.state == .valid {
            guard let next = grant.nextRefreshAt else { continue }
            out.sample("tenant", grant.tenant, "service", grant.service.rawValue, "grant", grant.grant, .timestamp(next))
        }
        out.family("tenantsync_token_last_refresh_timestamp_seconds", "When the grant's token was last refreshed (Unix time).")
        for grant in state.grants where grant.state != .pending {
            guard let last = grant.lastRefreshAt else { continue }
            out.sample("tenant", grant.tenant, "service", grant.service.rawValue, "grant", grant.grant, .timestamp(last))
        }

        // Only the current state's series (at 1): a fleet of 30,000 accounts would carry 60,000 zeros otherwise.
        // A state change ends the old series (Prometheus marks it stale) and starts the new one.
        out.family("tenantsync_account_state", "1, labelled with the service account's current state (provisioning, active, token-invalid).")
        for account in state.accounts {
            out.sample("tenant", account.tenant, "service", account.service.rawValue, "state", account.state.rawValue, .integer(1))
        }
        out.family("tenantsync_client_secret_expiration_timestamp_seconds", "When the account's own app client secret expires (Unix time), where known.")
        for account in state.accounts {
            guard let expiresAt = account.clientSecretExpiresAt else { continue }
            out.sample("tenant", account.tenant, "service", account.service.rawValue, .timestamp(expiresAt))
        }
        out.family("tenantsync_incidents_open", "Incidents (an invalid grant, failing refreshes) not yet resolved.")
        out.sample(.integer(state.incidentsOpen))

        out.family("tenantsync_sync_last_attempt_timestamp_seconds", "When the tenant's newest directory sync started (Unix time).")
        for tenant in state.tenants {
            guard let attempt = tenant.lastAttemptAt else { continue }
            out.sample("tenant", tenant.tenant, .timestamp(attempt))
        }
        out.family("tenantsync_sync_last_success_timestamp_seconds", "When the tenant's newest successful directory sync ended (Unix time).")
        for tenant in state.tenants {
            guard let success = tenant.lastSuccessAt else { continue }
            out.sample("tenant", tenant.tenant, .timestamp(success))
        }
        out.family("tenantsync_directory_users", "Users of the tenant's synced directory.")
        for tenant in state.tenants { out.sample("tenant", tenant.tenant, .integer(tenant.directoryUsers)) }
        out.family("tenantsync_sync_held", "1 while a sync held by the mass-deletion guard waits for an operator.")
        for tenant in state.tenants { out.sample("tenant", tenant.tenant, .integer(tenant.held ? 1 : 0)) }
        out.family("tenantsync_sync_scheduled", "1 when the tenant gets a daily sync (scope all, an account past provisioning).")
        for tenant in state.tenants { out.sample("tenant", tenant.tenant, .integer(tenant.scheduled ? 1 : 0)) }

        var outbox = Dictionary(state.outbox.map { ($0.channel, $0) }, uniquingKeysWith: { first, _ in first })
        for channel in channels() where outbox[channel] == nil {
            outbox[channel] = MetricsState.OutboxChannel(channel: channel, pending: 0, oldestPendingAt: nil)
        }
        let channels = outbox.values.sorted { $0.channel < $1.channel }
        out.family("tenantsync_alert_outbox_pending", "Alert deliveries waiting in the outbox, per channel.")
        for channel in channels { out.sample("channel", channel.channel, .integer(channel.pending)) }
        out.family("tenantsync_alert_oldest_pending_timestamp_seconds", "When the oldest alert still waiting for the channel was raised (Unix time).")
        for channel in channels {
            guard let oldest = channel.oldestPendingAt else { continue }
            out.sample("channel", channel.channel, .timestamp(oldest))
        }
        return out.buffer
    }

    /// About the bytes ``render(_:)`` writes, so that the buffer is allocated once: a grant's line is about 130 bytes
    /// (four per grant), an account's and a tenant's under 100 (two per account, five per tenant).
    static func estimatedBytes(_ state: MetricsState) -> Int {
        4_096 + state.grants.count * 4 * 140 + state.accounts.count * 2 * 110 + state.tenants.count * 5 * 100
    }

    // MARK: Helpers

    static let alertsHelp = "Alerts raised (stored in the outbox), by kind and severity."
    static let statusClasses = ["2xx", "3xx", "4xx", "5xx", "error"]
    /// Identity-platform and Graph requests: tens of milliseconds to the 30 s request timeout.
    static let requestBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]
    /// Sync runs: a second for a small delta to an hour for a full read of a large tenant.
    static let syncBuckets: [Duration] = [
        .seconds(1), .seconds(5), .seconds(15), .seconds(30), .seconds(60), .seconds(120), .seconds(300), .seconds(600),
        .seconds(1_800), .seconds(3_600),
    ]

    static func statusClass(_ status: Int?) -> String {
        guard let status, (200..<600).contains(status) else { return status == nil ? "error" : "5xx" }
        return "\(status / 100)xx"
    }

    static func syncKey(_ trigger: SyncTrigger, _ mode: SyncMode, _ result: SyncRunState?) -> String {
        "\(trigger.rawValue)/\(mode.rawValue)/\(result?.rawValue ?? "")"
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    private func deliveryCounter(channel: String, result: String) -> CoreMetrics.Counter {
        Self.counter(
            events, "tenantsync_alert_deliveries_total", [("channel", channel), ("result", result)],
            "Alert delivery attempts per channel, by result (delivered, failed)."
        )
    }

    /// A full metric name with its HELP text (the descriptor's parts joined are the name as given).
    static func named(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// A swift-metrics counter whose handler is the registry's counter (which carries the HELP text).
    static func counter(_ registry: PrometheusCollectorRegistry, _ name: String, _ labels: [(String, String)], _ help: String) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: name, dimensions: labels, handler: registry.makeCounter(descriptor: named(name, help), labels: labels))
    }

    /// A swift-metrics timer whose handler is a registry histogram in seconds.
    static func timer(
        _ registry: PrometheusCollectorRegistry, _ name: String, _ labels: [(String, String)], _ buckets: [Duration], _ help: String
    ) -> CoreMetrics.Timer {
        CoreMetrics.Timer(
            label: name, dimensions: labels,
            handler: registry.makeDurationHistogram(descriptor: named(name, help), labels: labels, buckets: buckets)
        )
    }
}
