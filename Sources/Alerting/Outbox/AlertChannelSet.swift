import Synchronization

/// The alert channels in force, replaced as a whole when the daemon reloads its configuration.
///
/// The dispatcher looks a channel up here at each delivery and producers read ``names`` at each
/// alert, so a reload applies to the next alert without restarting either. A channel removed by a
/// reload is *retired*: its pending deliveries are dropped rather than kept failing forever, until a
/// later reload adds a channel of that name again.
public final class AlertChannelSet: Sendable {
    /// What a replacement changed, by channel name.
    public struct Change: Sendable, Equatable {
        public var added: [String]
        public var removed: [String]
    }

    private struct State {
        var channels: [any AlertChannel]
        var retired: Set<String>
    }

    private let state: Mutex<State>

    public init(_ channels: [any AlertChannel]) {
        state = Mutex(State(channels: Self.unique(channels), retired: []))
    }

    /// The names of the channels in force, in configuration order: what a new alert is queued for.
    public var names: [String] {
        state.withLock { $0.channels.map(\.name) }
    }

    /// The channel of that name, if one is in force.
    public func channel(named name: String) -> (any AlertChannel)? {
        state.withLock { $0.channels.first { $0.name == name } }
    }

    /// Whether a reload removed the channel (and none of that name came back since).
    public func isRetired(_ name: String) -> Bool {
        state.withLock { $0.retired.contains(name) }
    }

    /// Puts `channels` in force; returns the names added and removed.
    @discardableResult
    public func replace(with channels: [any AlertChannel]) -> Change {
        let channels = Self.unique(channels)
        return state.withLock { state in
            let old = Set(state.channels.map(\.name))
            let new = Set(channels.map(\.name))
            let change = Change(
                added: channels.map(\.name).filter { !old.contains($0) },
                removed: state.channels.map(\.name).filter { !new.contains($0) }
            )
            state.channels = channels
            state.retired.formUnion(change.removed)
            state.retired.subtract(new)
            return change
        }
    }

    /// The first channel of each name wins, as the outbox keys deliveries by name.
    private static func unique(_ channels: [any AlertChannel]) -> [any AlertChannel] {
        var seen: Set<String> = []
        return channels.filter { seen.insert($0.name).inserted }
    }
}
