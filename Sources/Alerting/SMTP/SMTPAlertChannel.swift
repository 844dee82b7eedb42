import TenantSyncCore

/// Delivers alerts by mail to the configured administrators.
public struct SMTPAlertChannel: AlertChannel {
    public let name = "smtp"
    private let client: SMTPClient
    private let composer: AlertMailComposer
    private let kinds: Set<String>?

    /// - Parameter kinds: alert kinds to mail; `nil` for every kind.
    public init(client: SMTPClient, composer: AlertMailComposer, kinds: Set<String>? = nil) {
        self.client = client
        self.composer = composer
        self.kinds = kinds
    }

    public func accepts(kind: String) -> Bool {
        kinds?.contains(kind) ?? true
    }

    public func deliver(_ alert: Alert) async throws {
        try await client.send(composer.compose(alert))
    }
}
