import Logging
import ServiceLifecycle
import Systemd
import TenantSyncConfig
import TenantSyncCore
#if canImport(Glibc)
import Glibc
#endif
import UnixSignals

/// Re-reads the configuration on SIGHUP (or a control-socket `Reload`) and applies what can change at run time.
///
/// A file that fails to parse is refused as a whole: the running configuration
/// stays in force and the error (with file:line) is logged. Keys that need a
/// restart are kept at their running values and named in the log.
public actor ConfigurationReloader: Service {
    /// What a reload did.
    public struct Outcome: Sendable, Equatable {
        /// Keys that changed and now apply.
        public var applied: [String]
        /// Keys that changed but keep their running value until a restart.
        public var needRestart: [String]
    }

    private let path: String?
    private let loader: ConfigurationLoader
    private let settings: RuntimeSettings
    private let notifier: SystemdNotifier
    private let logger: Logger
    private var listeners: [@Sendable (DaemonConfiguration) async -> Void] = []

    public init(path: String?, loader: ConfigurationLoader, settings: RuntimeSettings, notifier: SystemdNotifier, logger: Logger) {
        self.path = path
        self.loader = loader
        self.settings = settings
        self.notifier = notifier
        self.logger = logger
    }

    /// Registers a callback run after each successful reload.
    public func onReload(_ listener: @escaping @Sendable (DaemonConfiguration) async -> Void) {
        listeners.append(listener)
    }

    public func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            _ = try? await reload()
        }
    }

    /// Re-reads the file and applies it; throws the configuration error when the file is bad.
    @discardableResult
    public func reload() async throws(ConfigurationError) -> Outcome {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        notifier.notify("RELOADING=1", "MONOTONIC_USEC=\(UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000)")
        defer { notifier.notify("READY=1") }
        let running = settings.configuration
        let next: DaemonConfiguration
        do {
            next = try loader.load(path: path)
        } catch {
            logger.error("Configuration reload refused; the running configuration stays in force", metadata: ["config.error": "\(error)"])
            throw error
        }
        let needRestart = running.keysNeedingRestart(comparedTo: next)
        var merged = next
        // Keys that need a restart keep their running values.
        merged.daemon = running.daemon
        merged.microsoft.authority = running.microsoft.authority
        merged.microsoft.graph = running.microsoft.graph
        merged.microsoft.outlook = running.microsoft.outlook
        merged.microsoft.management = running.microsoft.management
        merged.provisioning = running.provisioning
        let applied = Self.changedKeys(running, merged)
        settings.replace(with: merged)
        logger.info(
            "Configuration reloaded",
            metadata: [
                "message.id": "\(MessageID.daemonReloaded)",
                "config.file": "\(next.sourceFile)",
                "config.applied": "\(applied.joined(separator: ","))",
                "config.needs_restart": "\(needRestart.joined(separator: ","))",
            ]
        )
        if !needRestart.isEmpty {
            logger.warning("Changed keys need a restart to apply", metadata: ["config.needs_restart": "\(needRestart.joined(separator: ","))"])
        }
        for listener in listeners { await listener(merged) }
        return Outcome(applied: applied, needRestart: needRestart)
    }

    static func changedKeys(_ old: DaemonConfiguration, _ new: DaemonConfiguration) -> [String] {
        var keys: [String] = []
        func check<T: Equatable>(_ name: String, _ a: T, _ b: T) { if a != b { keys.append(name) } }
        check("microsoft.client_id", old.microsoft.clientID, new.microsoft.clientID)
        check("microsoft.client_secret_file", old.microsoft.clientSecret, new.microsoft.clientSecret)
        check("microsoft.request_timeout", old.microsoft.requestTimeout, new.microsoft.requestTimeout)
        check("smtp", old.smtp, new.smtp)
        check("sync.daily_window_start", old.sync.dailyWindowStartMinutes, new.sync.dailyWindowStartMinutes)
        check("sync.daily_window_length", old.sync.dailyWindowLength, new.sync.dailyWindowLength)
        check("sync.mass_deletion_threshold", old.sync.massDeletionThreshold, new.sync.massDeletionThreshold)
        check("sync.max_concurrent_tenants", old.sync.maxConcurrentTenants, new.sync.maxConcurrentTenants)
        check("tokens.refresh_margin", old.tokens.refreshMargin, new.tokens.refreshMargin)
        check("tokens.max_in_flight", old.tokens.maxInFlight, new.tokens.maxInFlight)
        check("hooks", old.hooks, new.hooks)
        return keys
    }
}
