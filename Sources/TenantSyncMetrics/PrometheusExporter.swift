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
/// written by ``StateExposition`` (a registry is quadratic in series per family, see there):
/// each tenant's series are kept as text (``TenantSeries``) and a read returns, and writes
/// again, only the tenants the store counted changes of since; a grant or tenant that
/// disappears leaves no stale series. The read is cached for `maximumStateAge` and one read
/// runs at a time, so a scrape costs at most one read whatever the scrape rate or the number
/// of tenants.
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
        /// Every tenant's series as text, kept between reads (only the tenants that changed are written again).
        var tenants = TenantSeries()
        /// The state gauges' text of the newest read, served until it is `maximumStateAge` old.
        var text = ByteBuffer()
        var readAt: ContinuousClock.Instant?
        /// The newest alert already counted in `tenantsync_alerts_total`.
        var alertCursor: Int64 = 0
        /// The read under way: scrapes meanwhile wait for it rather than read again.
        var reading: Task<ByteBuffer, Never>?
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

    /// Reads the state and writes every tenant's series now, unless a read is fresh or under way: the endpoint calls
    /// it as it starts listening, so that the first scrape finds the fleet's text written (a first read writes every
    /// tenant; at 10,000 tenants that is longer than a scrape should take).
    public func prepare() async {
        _ = await stateBuffer()
    }

    private func stateBuffer() async -> ByteBuffer {
        let now = ContinuousClock.now
        let reading = cache.withLock { cache -> Task<ByteBuffer, Never>? in
            if let readAt = cache.readAt, readAt.duration(to: now) < maximumStateAge { return nil }
            if cache.reading == nil { cache.reading = Task { await self.readState() } }
            return cache.reading
        }
        guard let reading else { return cache.withLock { $0.text } }
        return await reading.value
    }

    /// Reads the state (one read at a time: ``stateBuffer()`` starts it), writes again the tenants that changed and
    /// the scrape's text; on a failed read, the last text stays.
    private func readState() async -> ByteBuffer {
        // Only this read touches the tenants' text until it ends, so it is taken out of the lock to be written.
        let (known, cursor) = cache.withLock { ($0.tenants.knownVersions, $0.alertCursor) }
        let state: MetricsState
        do {
            state = try await source.metricsState(alertsAfter: cursor, knownVersions: known)
        } catch {
            // The event metrics are still served; the last state stays until a read succeeds.
            logger.error("Metrics state could not be read", metadata: ["error": "\(error)"])
            return cache.withLock { cache in
                cache.reading = nil
                return cache.text
            }
        }
        // The read succeeded: the new text is written over the old one's memory, unless a scrape still sends it (then
        // it keeps its own, and the new text gets new memory), so that a fleet's (tens of megabytes) is not held twice.
        // Both are moved out of the cache, not copied: written while the cache still held them, they would be copied.
        var (tenants, previous) = cache.withLock { cache -> (TenantSeries, ByteBuffer) in
            defer {
                cache.tenants = TenantSeries()
                cache.text = ByteBuffer()
            }
            return (cache.tenants, cache.text)
        }
        tenants.apply(state)
        let text = render(state, tenants: tenants, reusing: consume previous)
        cache.withLock { cache in
            cache.tenants = tenants
            cache.text = text
            cache.readAt = ContinuousClock.now
            cache.alertCursor = state.newestAlertID
            cache.reading = nil
        }
        for alerts in state.newAlerts {
            Self.counter(
                events, "tenantsync_alerts_total", [("kind", alerts.kind), ("severity", alerts.severity)], Self.alertsHelp
            ).increment(by: alerts.count)
        }
        return text
    }

    /// The state gauges of one read, with every tenant's series as `tenants` holds them after it.
    func render(_ state: MetricsState, tenants: TenantSeries, reusing buffer: consuming ByteBuffer = ByteBuffer()) -> ByteBuffer {
        var out = StateExposition(reusing: consume buffer, capacity: tenants.byteCount + 16_384)
        out.family("tenantsync_token_refresh_margin_seconds", "The configured [tokens] refresh_margin: grants are refreshed this long before expiry.")
        out.sample(.integer(Int(refreshMargin().components.seconds)))

        // Per grant, per account, per tenant: each family's header, then every tenant's piece of it.
        for family in TenantSeries.Family.allCases where family.rawValue <= TenantSeries.Family.clientSecretExpiration.rawValue {
            tenants.write(family, into: &out)
        }
        out.family("tenantsync_incidents_open", "Incidents (an invalid grant, failing refreshes) not yet resolved.")
        out.sample(.integer(state.incidentsOpen))
        for family in TenantSeries.Family.allCases where family.rawValue > TenantSeries.Family.clientSecretExpiration.rawValue {
            tenants.write(family, into: &out)
        }

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

    /// The state gauges of one whole read (tests: what a first scrape of that state writes).
    func render(_ state: MetricsState) -> ByteBuffer {
        var tenants = TenantSeries()
        tenants.apply(state)
        return render(state, tenants: tenants)
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
