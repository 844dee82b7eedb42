import TenantSyncCore

/// A way an alert reaches an operator; the outbox tracks each channel's delivery on its own.
///
/// Channel names are stored with every delivery: `journal`, `smtp`, `hook:NAME`.
public protocol AlertChannel: Sendable {
    /// The stored channel name.
    var name: String { get }
    /// Whether alerts of this kind (e.g. `token-invalid`) go to this channel.
    func accepts(kind: String) -> Bool
    /// Delivers one alert; throws when it did not arrive (the outbox retries later).
    func deliver(_ alert: Alert) async throws
}
