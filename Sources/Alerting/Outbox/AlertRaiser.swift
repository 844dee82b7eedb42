import Foundation
import TenantSyncCore

/// Stores an alert with one pending delivery per interested channel, then wakes the dispatcher.
///
/// Raising is durable: once ``raise(_:)`` returns, the alert survives a crash and
/// every channel will get it. It does not suppress duplicates: for an incident,
/// call `IncidentStore.reportIncident(_:)` first and raise only when it returns
/// `isNew == true`, so an unresolved incident alerts once.
public struct AlertRaiser: Sendable {
    private let store: any AlertStore
    private let channels: [any AlertChannel]
    private let signal: WakeSignal
    private let now: @Sendable () -> Date

    /// - Parameters:
    ///   - channels: the same channels the dispatcher delivers to.
    ///   - signal: the dispatcher's ``AlertDispatcher/signal``.
    public init(store: any AlertStore, channels: [any AlertChannel], signal: WakeSignal, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.channels = channels
        self.signal = signal
        self.now = now
    }

    /// The names of the channels that take alerts of this kind.
    public func channelNames(for kind: String) -> [String] {
        channels.filter { $0.accepts(kind: kind) }.map(\.name)
    }

    /// Stores the alert for every channel that accepts its kind and wakes the dispatcher.
    @discardableResult
    public func raise(_ alert: NewAlert) async throws -> Alert {
        let stored = try await store.enqueueAlert(alert, channels: channelNames(for: alert.kind), at: now())
        signal.signal()
        return stored
    }
}
