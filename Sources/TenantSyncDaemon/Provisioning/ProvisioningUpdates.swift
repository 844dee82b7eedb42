/// Where the steps of a provisioning go while it waits for the administrator (a consent code, a link).
struct ProvisioningUpdates: Sendable {
    /// Whether anyone follows the steps; when not, a step that would wait returns at once instead.
    let isStreaming: Bool
    private let sink: @Sendable (ProvisioningStep) async throws -> Void

    init(isStreaming: Bool, sink: @escaping @Sendable (ProvisioningStep) async throws -> Void) {
        self.isStreaming = isStreaming
        self.sink = sink
    }

    /// Passes one step on; throws once the follower is gone.
    func send(_ step: ProvisioningStep) async throws {
        guard isStreaming else { return }
        try await sink(step)
    }
}
