import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TenantSyncCore

/// Delivers the durable alert outbox to every channel, at least once.
///
/// Each alert is stored with one pending delivery per channel before anything is
/// sent (``AlertRaiser``). The dispatcher takes due deliveries from the store, sends
/// them channel by channel (channels in parallel, one channel's alerts in order),
/// and marks each delivered or failed. A failure backs the channel off
/// exponentially with jitter; the channel's other due alerts wait for the same
/// retry time. All state is in the store, so a restart picks up where it stopped.
///
/// It sleeps until the next retry is due or ``signal`` is raised; it never polls.
/// On graceful shutdown it finishes the round in progress and returns.
public final class AlertDispatcher<C: Clock>: Service where C.Duration == Duration {
    /// Tuning for the dispatcher.
    public struct Configuration: Sendable {
        public var backoff: BackoffPolicy
        /// How many due deliveries one round takes.
        public var batchSize: Int
        /// How long to wait before trying again when the store itself fails.
        public var storeRetryInterval: Duration

        public init(backoff: BackoffPolicy = BackoffPolicy(), batchSize: Int = 100, storeRetryInterval: Duration = .seconds(5)) {
            self.backoff = backoff
            self.batchSize = batchSize
            self.storeRetryInterval = storeRetryInterval
        }
    }

    /// Raise this after enqueueing an alert (``AlertRaiser`` does) to start delivery at once.
    public let signal: WakeSignal

    private let store: any AlertStore
    /// The channels in force; a reload replaces them through ``reconfigure(channels:changed:)``.
    public let channels: AlertChannelSet
    private let configuration: Configuration
    private let clock: C
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let healthState = Mutex(DeliveryHealth())
    private let deliveryObserver = Mutex<(@Sendable (_ channel: String, _ delivered: Bool) -> Void)?>(nil)
    /// The cluster's leases when several daemons share the outbox: a row is delivered only under its lease.
    private let leasingBox = Mutex<(any WorkLeasing)?>(nil)
    /// Whether the last round left due rows to other nodes that held them (then the loop looks again shortly).
    private let rowsHeldElsewhere = Mutex(false)

    /// How soon the loop looks again at due rows another node holds.
    static var heldElsewhereRetry: Duration { .seconds(1) }

    /// - Parameters:
    ///   - channels: the configured channels; deliveries for a channel not listed are kept and reported failing,
    ///     unless a reload removed that channel (they are dropped then).
    ///   - signal: share it with the ``AlertRaiser``.
    ///   - now: the wall clock the store's dates are compared with.
    public init(
        store: any AlertStore, channels: AlertChannelSet, signal: WakeSignal = WakeSignal(),
        configuration: Configuration = Configuration(), clock: C, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.store = store
        self.channels = channels
        self.signal = signal
        self.configuration = configuration
        self.clock = clock
        self.now = now
        self.logger = logger
    }

    /// Calls `observer` after each delivery attempt with the channel and whether it delivered (the daemon's metrics).
    public func observeDeliveries(_ observer: @escaping @Sendable (_ channel: String, _ delivered: Bool) -> Void) {
        deliveryObserver.withLock { $0 = observer }
    }

    /// The current delivery health (failing channels and their last error).
    /// Shares the outbox with the other nodes of a cluster: from now on each row is delivered under its lease (one
    /// node per row and channel), claimed before delivery and released after its outcome is stored.
    public func shareDeliveries(through leasing: any WorkLeasing) {
        leasingBox.withLock { $0 = leasing }
    }

    /// The lease key of one delivery: the alert id and the channel.
    static func leaseKey(_ delivery: AlertDelivery) -> String { "\(delivery.alertID)/\(delivery.channel)" }

    public var health: DeliveryHealth {
        healthState.withLock { $0 }
    }

    public func run() async throws {
        logger.debug("Alert dispatcher started", metadata: ["alert.channels": "\(channels.names.joined(separator: ","))"])
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let wait: Duration?
            do {
                let full = try await deliverDueRound()
                if full { continue }
                let next = try await store.nextDeliveryDate().map { next in
                    let seconds = next.timeIntervalSince(now())
                    return seconds <= 0 ? Duration.zero : .nanoseconds(Int64(seconds * 1e9))
                }
                // Rows another node holds stay due until it stores their outcome: not a reason to spin.
                wait = rowsHeldElsewhere.withLock { $0 } ? max(next ?? Self.heldElsewhereRetry, Self.heldElsewhereRetry) : next
            } catch {
                logger.error("Alert outbox unavailable", metadata: ["error": "\(error)"])
                wait = configuration.storeRetryInterval
            }
            if wait == .zero { continue }
            await sleep(atMost: wait)
        }
    }

    /// Delivers one batch of due deliveries; returns whether the batch was full (more may be due).
    @discardableResult
    public func deliverDueRound() async throws -> Bool {
        var due = try await store.dueDeliveries(at: now(), limit: configuration.batchSize)
        rowsHeldElsewhere.withLock { $0 = false }
        guard !due.isEmpty else { return false }
        let fetched = due.count
        var leases: [Lease] = []
        if let leasing = leasingBox.withLock({ $0 }) {
            leases = try await leasing.claim(kind: .delivery, keys: due.map(Self.leaseKey), limit: due.count)
            let claimed = Set(leases.map(\.key))
            rowsHeldElsewhere.withLock { $0 = claimed.count < due.count }
            if !leases.isEmpty {
                // Read again under the leases: a node may have delivered a row between the first read and the claim.
                due = try await store.dueDeliveries(at: now(), limit: configuration.batchSize).filter { claimed.contains(Self.leaseKey($0)) }
            } else {
                due = []
            }
        }
        do {
            try await deliverByChannel(due)
        } catch {
            if let leasing = leasingBox.withLock({ $0 }) { await leasing.release(leases) }
            throw error
        }
        // Released once each row's outcome is stored: a node that claims it next sees it delivered or rescheduled.
        if let leasing = leasingBox.withLock({ $0 }) { await leasing.release(leases) }
        return fetched >= configuration.batchSize && !rowsHeldElsewhere.withLock({ $0 })
    }

    /// Delivers the rows, each channel's in order and the channels at once.
    private func deliverByChannel(_ due: [AlertDelivery]) async throws {
        var byChannel: [String: [AlertDelivery]] = [:]
        var order: [String] = []
        for delivery in due {
            if byChannel[delivery.channel] == nil { order.append(delivery.channel) }
            byChannel[delivery.channel, default: []].append(delivery)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for name in order {
                let deliveries = byChannel[name]!
                group.addTask { try await self.deliver(deliveries, channelName: name) }
            }
            try await group.waitForAll()
        }
    }

    private func deliver(_ deliveries: [AlertDelivery], channelName: String) async throws {
        for (index, delivery) in deliveries.enumerated() {
            guard let alert = try await store.alert(id: delivery.alertID) else { continue }
            if channels.channel(named: channelName) == nil, channels.isRetired(channelName) {
                // Queued by a producer that read the channel list just before a reload removed the channel.
                try await store.discardPendingDeliveries(channel: channelName)
                continue
            }
            if let channel = channels.channel(named: channelName), !channel.accepts(kind: alert.kind) {
                // Producers queue an alert for every channel in force; a channel filtered to other kinds
                // (a hook's `events`) never gets it, and its delivery is not left pending for ever.
                try await store.discardPendingDelivery(alertID: alert.id, channel: channelName)
                continue
            }
            do {
                guard let channel = channels.channel(named: channelName) else {
                    throw TenantSyncError(.invalidConfiguration, "Alert channel \(channelName) is not configured; its deliveries wait until it is.")
                }
                try await channel.deliver(alert)
                let date = now()
                try await store.markDelivered(alertID: alert.id, channel: channelName, at: date)
                recordSuccess(channel: channelName, at: date)
                deliveryObserver.withLock { $0 }?(channelName, true)
            } catch {
                let attempt = delivery.attempts + 1
                let delay = configuration.backoff.delay(afterAttempt: attempt)
                let date = now()
                let nextAttempt = date.addingTimeInterval(BackoffPolicy.seconds(delay))
                let message = "\(error)"
                try await store.markDeliveryFailed(alertID: alert.id, channel: channelName, error: message, nextAttemptAt: nextAttempt)
                // The channel is failing: its other due alerts wait for the same retry instead of hammering it now.
                for waiting in deliveries[(index + 1)...] {
                    try await store.markDeliveryFailed(
                        alertID: waiting.alertID, channel: channelName, error: "waiting for channel: \(message)", nextAttemptAt: nextAttempt
                    )
                }
                recordFailure(channel: channelName, error: message, at: date, nextAttempt: nextAttempt)
                deliveryObserver.withLock { $0 }?(channelName, false)
                logger.warning(
                    "Alert delivery failed",
                    metadata: [
                        "message.id": "\(MessageID.alertDeliveryFailing)",
                        "alert.id": "\(alert.id)",
                        "alert.kind": "\(alert.kind)",
                        "alert.channel": "\(channelName)",
                        "delivery.attempt": "\(attempt)",
                        "delivery.retry_in": "\(delay)",
                        "delivery.waiting": "\(deliveries.count - index - 1)",
                        "error": "\(message)",
                    ]
                )
                return
            }
        }
    }

    /// Puts a reloaded configuration's channels in force, from the next delivery on.
    ///
    /// Pending deliveries of a removed channel are dropped (the alerts stay listed, each with its other
    /// channels' deliveries): the operator removed the channel, and keeping them would report it failing
    /// forever. Pending deliveries of a changed channel (`changed`, e.g. `smtp` with a new server) are due
    /// at once, so a backlog that failed on the old settings is retried on the new ones without waiting
    /// out its backoff. A channel added gets the alerts raised from now on, not the history.
    /// - Returns: the names added and removed.
    @discardableResult
    public func reconfigure(channels new: [any AlertChannel], changed: Set<String>) async throws -> AlertChannelSet.Change {
        // Replaced before the first suspension, so that two reloads in a row apply in order.
        let change = channels.replace(with: new)
        let names = Set(channels.names)
        let touched = Set(change.removed).union(changed.intersection(names))
        healthState.withLock { health in
            for name in touched { health.failingChannels.removeValue(forKey: name) }
        }
        for name in change.removed where channels.isRetired(name) {
            let dropped = try await store.discardPendingDeliveries(channel: name)
            logger.notice(
                "Alert channel removed by reload; its pending deliveries were dropped",
                metadata: ["alert.channel": "\(name)", "alert.deliveries_dropped": "\(dropped)"]
            )
        }
        for name in changed.intersection(names).sorted() {
            let retried = try await store.retryPendingDeliveries(channel: name, at: now())
            if retried > 0 {
                logger.info(
                    "Alert channel changed by reload; its pending deliveries are retried now",
                    metadata: ["alert.channel": "\(name)", "alert.deliveries_retried": "\(retried)"]
                )
            }
        }
        signal.signal()
        return change
    }

    private func recordSuccess(channel: String, at date: Date) {
        let recovered = healthState.withLock { health -> Bool in
            health.lastDeliveredAt = date
            return health.failingChannels.removeValue(forKey: channel) != nil
        }
        if recovered {
            logger.notice("Alert delivery recovered", metadata: ["alert.channel": "\(channel)"])
        }
    }

    private func recordFailure(channel: String, error: String, at date: Date, nextAttempt: Date) {
        healthState.withLock { health in
            let since = health.failingChannels[channel]?.since ?? date
            health.failingChannels[channel] = DeliveryHealth.Failure(lastError: error, since: since, nextAttemptAt: nextAttempt)
        }
    }

    /// Sleeps until `duration` passed (forever when `nil`), the signal is raised, or shutdown begins.
    private func sleep(atMost duration: Duration?) async {
        let clock = self.clock
        let signal = self.signal
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await signal.wait() }
                if let duration {
                    group.addTask { try? await clock.sleep(for: duration) }
                }
                await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            // Ends the wait; the loop then sees the shutdown and returns. Kept if the wait has not begun yet.
            signal.signal()
        }
    }
}

extension AlertDispatcher where C == ContinuousClock {
    /// A dispatcher on the continuous clock.
    public convenience init(
        store: any AlertStore, channels: [any AlertChannel], signal: WakeSignal = WakeSignal(),
        configuration: Configuration = Configuration(), logger: Logger
    ) {
        self.init(store: store, channels: channels, signal: signal, configuration: configuration, clock: ContinuousClock(), logger: logger)
    }

    /// A dispatcher on the continuous clock delivering to a replaceable set of channels.
    public convenience init(
        store: any AlertStore, channels: AlertChannelSet, signal: WakeSignal = WakeSignal(),
        configuration: Configuration = Configuration(), logger: Logger
    ) {
        self.init(store: store, channels: channels, signal: signal, configuration: configuration, clock: ContinuousClock(), logger: logger)
    }
}

extension AlertDispatcher {
    /// A dispatcher delivering to a fixed list of channels.
    public convenience init(
        store: any AlertStore, channels: [any AlertChannel], signal: WakeSignal = WakeSignal(),
        configuration: Configuration = Configuration(), clock: C, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.init(
            store: store, channels: AlertChannelSet(channels), signal: signal, configuration: configuration, clock: clock, now: now,
            logger: logger
        )
    }
}
