import ControlPlane
import ServiceLifecycle

/// A ServiceGroup around one server, shut down on demand.
struct ServiceGroupRunner: Sendable {
    let group: ServiceGroup

    init(server: ControlServer) {
        group = ServiceGroup(services: [server], gracefulShutdownSignals: [], logger: ControlServerHarness.logger)
    }

    func run() async throws { try await group.run() }
    func shutdown() async { await group.triggerGracefulShutdown() }
}
