import Logging
import ServiceLifecycle
import Systemd

/// Tells systemd and the log that the daemon is ready, from inside the service group.
///
/// `ServiceGroup` traps SIGTERM and SIGINT before it starts any service, so a
/// supervisor that stops the daemon right after READY=1 always gets a graceful
/// shutdown, never the default signal action.
struct ReadinessAnnouncer: Service {
    let notifier: SystemdNotifier
    let logger: Logger
    let metadata: Logger.Metadata

    func run() async throws {
        notifier.notify("READY=1", "STATUS=running")
        logger.info("tenantsyncd started", metadata: metadata)
        try? await gracefulShutdown()
        notifier.notify("STOPPING=1")
        logger.info("tenantsyncd stopping")
    }
}
