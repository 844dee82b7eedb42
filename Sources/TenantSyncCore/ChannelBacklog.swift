import struct Foundation.Date

/// The pending deliveries of one alert channel, counted by the store (GROUP BY), not by loading them.
public struct ChannelBacklog: Sendable, Equatable {
    public var channel: String
    public var pending: Int
    /// The earliest next attempt among them.
    public var oldestPendingAt: Date?

    public init(channel: String, pending: Int, oldestPendingAt: Date?) {
        self.channel = channel
        self.pending = pending
        self.oldestPendingAt = oldestPendingAt
    }
}
