/// When a node renews the leases it holds and when it must give one up, decided on the node's own clock.
///
/// A pure state machine (state in, actions out; no IO, no timers), generic over `Clock` like postgres-nio's
/// `ConnectionPoolModule`: the caller feeds it what happened (claims, renewals, failures, releases) and the current
/// instant, and does what ``tick(now:)`` returns. The store judges expiry by its own clock; the node cannot read that
/// clock, so it counts a lease's life from the instant it *sent* the claim or renewal (never later than the store set
/// the expiry), and stops trusting it a safety margin before that life ends: past that instant the node must treat
/// the lease as lost even if the store might still show it held, so no work runs under a lease another node may
/// already have claimed.
public struct LeaseKeeper<C: Clock>: Sendable where C.Duration == Duration, C.Instant: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// The lease duration the node claims and renews with (`[cluster] lease_duration`).
        public var leaseDuration: Duration
        /// A renewal is due this long after the last successful claim or renewal was sent.
        public var renewAfter: Duration
        /// The lease is treated as lost locally this long before its duration ends.
        public var safetyMargin: Duration
        /// After a failed renewal (the store unreachable), the next attempt waits this long.
        public var retryAfter: Duration

        /// Renews at a third of the duration, retries a failed renewal after a tenth, gives a lease up a sixth
        /// before its end: two renewals can fail before a lease is given up.
        public init(leaseDuration: Duration) {
            self.leaseDuration = leaseDuration
            renewAfter = leaseDuration / 3
            safetyMargin = leaseDuration / 6
            retryAfter = leaseDuration / 10
        }
    }

    /// What the caller must do now.
    public struct Actions: Sendable, Equatable {
        /// Send one renewal of these leases (then report ``renewalAnswered(_:sentAt:)`` or ``renewalFailed(_:at:)``).
        public var renew: [Lease]
        /// Stop all work under these leases at once: they are no longer held here.
        public var lost: [Lease]
        /// Call ``tick(now:)`` again no later than this (nil: nothing held).
        public var nextTick: C.Instant?
    }

    private struct Held: Sendable {
        var lease: Lease
        var trustedUntil: C.Instant
        var renewAt: C.Instant
        var renewing: Bool
    }

    public let configuration: Configuration
    private var held: [LeaseItem: Held] = [:]

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// The leases held here now, in no particular order.
    public var leases: [Lease] { held.values.map(\.lease) }

    /// Leases a claim returned; `sentAt` is when the claim was sent.
    public mutating func claimed(_ leases: [Lease], sentAt: C.Instant) {
        for lease in leases {
            held[lease.item] = Held(lease: lease, trustedUntil: trustedUntil(sentAt), renewAt: sentAt.advanced(by: configuration.renewAfter), renewing: false)
        }
    }

    /// Renewals due and leases to give up at `now`, and when to look again.
    public mutating func tick(now: C.Instant) -> Actions {
        var renew: [Lease] = []
        var lost: [Lease] = []
        for (item, entry) in held {
            if now >= entry.trustedUntil {
                held[item] = nil
                lost.append(entry.lease)
            } else if now >= entry.renewAt, !entry.renewing {
                held[item]?.renewing = true
                renew.append(entry.lease)
            }
        }
        return Actions(renew: Self.sorted(renew), lost: Self.sorted(lost), nextTick: nextTick)
    }

    /// The store's answer to a renewal sent at `sentAt`. Returns the leases the node no longer holds (stop their work).
    public mutating func renewalAnswered(_ renewal: LeaseRenewal, sentAt: C.Instant) -> [Lease] {
        for lease in renewal.renewed where held[lease.item]?.lease.epoch == lease.epoch {
            held[lease.item] = Held(lease: lease, trustedUntil: trustedUntil(sentAt), renewAt: sentAt.advanced(by: configuration.renewAfter), renewing: false)
        }
        var lost: [Lease] = []
        for lease in renewal.lost where held[lease.item]?.lease.epoch == lease.epoch {
            held[lease.item] = nil
            lost.append(lease)
        }
        return Self.sorted(lost)
    }

    /// A renewal that got no answer (the store unreachable): try again after `retryAfter`, while the lease is trusted.
    public mutating func renewalFailed(_ leases: [Lease], at now: C.Instant) {
        for lease in leases where held[lease.item]?.lease.epoch == lease.epoch {
            held[lease.item]?.renewing = false
            held[lease.item]?.renewAt = now.advanced(by: configuration.retryAfter)
        }
    }

    /// Leases the node released (its work done): no longer kept.
    public mutating func released(_ leases: [Lease]) {
        for lease in leases where held[lease.item]?.lease.epoch == lease.epoch {
            held[lease.item] = nil
        }
    }

    /// Whether work under `lease` may go on at `now`: held here with that epoch and still trusted. A write must still
    /// be fenced in the store; this only stops work that the store would refuse anyway.
    public func holds(_ lease: Lease, at now: C.Instant) -> Bool {
        guard let entry = held[lease.item], entry.lease.epoch == lease.epoch else { return false }
        return now < entry.trustedUntil
    }

    private func trustedUntil(_ sentAt: C.Instant) -> C.Instant {
        sentAt.advanced(by: configuration.leaseDuration - configuration.safetyMargin)
    }

    /// When ``tick(now:)`` has something to do next, after what was reported since the last tick (nil: nothing held).
    public var nextTick: C.Instant? {
        held.values.map { $0.renewing ? $0.trustedUntil : min($0.renewAt, $0.trustedUntil) }.min()
    }

    private static func sorted(_ leases: [Lease]) -> [Lease] {
        leases.sorted { ($0.kind.rawValue, $0.key) < ($1.kind.rawValue, $1.key) }
    }
}
