import struct Foundation.Date

/// How alert delivery fares, per channel, for `STATUS=` and `tenantsyncctl status`.
public struct DeliveryHealth: Sendable, Equatable {
    /// A channel whose last attempt failed.
    public struct Failure: Sendable, Equatable {
        public var lastError: String
        public var since: Date
        public var nextAttemptAt: Date
    }

    /// Failing channels by name; empty when every channel delivers.
    public var failingChannels: [String: Failure] = [:]
    /// When the last delivery succeeded on any channel.
    public var lastDeliveredAt: Date?

    public init() {}

    public var isHealthy: Bool { failingChannels.isEmpty }

    /// One short clause for `STATUS=`, e.g. `alert delivery failing: smtp`; `nil` when healthy.
    public var statusClause: String? {
        guard !failingChannels.isEmpty else { return nil }
        return "alert delivery failing: " + failingChannels.keys.sorted().joined(separator: ", ")
    }
}
