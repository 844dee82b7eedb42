import Logging
import ServiceLifecycle
import Systemd
import TenantSyncCore

/// Tells systemd and the log that the daemon is ready, from inside the service group.
///
/// `ServiceGroup` traps SIGTERM and SIGINT before it starts any service, so a
/// supervisor that stops the daemon right after READY=1 always gets a graceful
/// shutdown, never the default signal action. READY=1 waits for the control
/// socket to listen, so `systemctl start` returning means `tenantsyncctl` works.
struct ReadinessAnnouncer: Service {
    let notifier: SystemdNotifier
    let logger: Logger
    let waitUntilReady: @Sendable () async throws -> Void
    let status: @Sendable () async -> String?
    let metadata: Logger.Metadata

    func run() async throws {
        try await waitUntilReady()
        _ = notifier.ready(status: await status() ?? "running")
        var started = metadata
        started["message.id"] = "\(MessageID.daemonStarted)"
        logger.info("tenantsyncd started", metadata: started)
        try? await gracefulShutdown()
        _ = notifier.stopping()
        logger.info("tenantsyncd stopping", metadata: ["message.id": "\(MessageID.daemonStopping)"])
    }
}
