import Logging
import ServiceLifecycle

/// Pings the systemd watchdog at half its interval, but only while the daemon's own health check passes.
///
/// A hung daemon (stuck scheduler, unanswering database) therefore stops pinging and
/// systemd restarts it. Put this service first in the `ServiceGroup`, so that it is the
/// last to stop during a graceful shutdown.
public struct WatchdogService<C: Clock>: Service where C.Duration == Duration {
    /// Decides whether the daemon is healthy enough to earn the next ping.
    public typealias HealthCheck = @Sendable () async -> Bool

    private let configuration: WatchdogConfiguration
    private let notifier: SystemdNotifier
    private let healthCheck: HealthCheck
    private let clock: C
    private let logger: Logger

    /// - Parameters:
    ///   - configuration: the watchdog interval, usually ``WatchdogConfiguration/fromEnvironment()``.
    ///   - healthCheck: awaited before every ping; a ping is sent only when it returns `true`.
    public init(configuration: WatchdogConfiguration, notifier: SystemdNotifier = SystemdNotifier(), clock: C, logger: Logger, healthCheck: @escaping HealthCheck) {
        self.configuration = configuration
        self.notifier = notifier
        self.healthCheck = healthCheck
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        let period = configuration.pingInterval
        var wasHealthy = true
        logger.debug("Watchdog started", metadata: ["watchdog.interval": "\(configuration.interval)"])
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let healthy = await healthCheck()
            if healthy {
                notifier.watchdogPing()
                if !wasHealthy { logger.notice("Health check passes again; watchdog pings resumed") }
            } else if wasHealthy {
                logger.error("Health check failed; watchdog pings withheld", metadata: ["watchdog.interval": "\(configuration.interval)"])
            }
            wasHealthy = healthy
            do {
                let clock = self.clock
                try await cancelWhenGracefulShutdown { try await clock.sleep(for: period) }
            } catch {
                return
            }
        }
    }
}

extension WatchdogService where C == ContinuousClock {
    /// A watchdog service on the continuous clock.
    public init(configuration: WatchdogConfiguration, notifier: SystemdNotifier = SystemdNotifier(), logger: Logger, healthCheck: @escaping HealthCheck) {
        self.init(configuration: configuration, notifier: notifier, clock: ContinuousClock(), logger: logger, healthCheck: healthCheck)
    }
}
