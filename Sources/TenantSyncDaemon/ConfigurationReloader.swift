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
    private var listeners: [@Sendable (_ running: DaemonConfiguration, _ next: DaemonConfiguration) async -> Void] = []

    public init(path: String?, loader: ConfigurationLoader, settings: RuntimeSettings, notifier: SystemdNotifier, logger: Logger) {
        self.path = path
        self.loader = loader
        self.settings = settings
        self.notifier = notifier
        self.logger = logger
    }

    /// Registers a callback that puts a reloaded configuration in force in the objects built from it.
    ///
    /// It runs after ``RuntimeSettings`` holds the new configuration and before the reload is
    /// reported, with the configuration that was running and the one now in force. It must do its
    /// synchronous part before its first suspension, so that two reloads in a row apply in order.
    public func onReload(_ listener: @escaping @Sendable (_ running: DaemonConfiguration, _ next: DaemonConfiguration) async -> Void) {
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
        merged.microsoft.requestTimeout = running.microsoft.requestTimeout
        merged.microsoft.cloud = running.microsoft.cloud
        merged.microsoft.proxy = running.microsoft.proxy
        merged.microsoft.proxyPasswordFile = running.microsoft.proxyPasswordFile
        merged.provisioning = running.provisioning
        merged.teams = running.teams
        merged.sync.graphBudgetShare = running.sync.graphBudgetShare
        merged.database = running.database
        merged.cluster = running.cluster
        let applied = Self.changedKeys(running, merged)
        settings.replace(with: merged)
        // Applied means in force in every object that uses it, so the listeners run before the report.
        for listener in listeners { await listener(running, merged) }
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
        return Outcome(applied: applied, needRestart: needRestart)
    }

    static func changedKeys(_ old: DaemonConfiguration, _ new: DaemonConfiguration) -> [String] {
        var keys: [String] = []
        func check<T: Equatable>(_ name: String, _ a: T, _ b: T) { if a != b { keys.append(name) } }
        check("microsoft.client_id", old.microsoft.clientID, new.microsoft.clientID)
        // The secret's content, re-read at each reload: a rotated secret in the same file counts as a change.
        check("microsoft.client_secret_file", old.microsoft.clientSecret, new.microsoft.clientSecret)
        check("microsoft.client_secret_expires", old.microsoft.clientSecretExpires, new.microsoft.clientSecretExpires)
        // Likewise the certificate and key re-read at each reload: that is how a rotated certificate takes over.
        check("microsoft.client_certificate_file", old.microsoft.clientCertificate, new.microsoft.clientCertificate)
        check("smtp.host", old.smtp.host, new.smtp.host)
        check("smtp.port", old.smtp.port, new.smtp.port)
        check("smtp.security", old.smtp.security, new.smtp.security)
        check("smtp.username", old.smtp.username, new.smtp.username)
        check("smtp.password_file", old.smtp.password, new.smtp.password)
        check("smtp.from", old.smtp.from, new.smtp.from)
        check("smtp.to", old.smtp.to, new.smtp.to)
        check("smtp.ca_file", old.smtp.caFile, new.smtp.caFile)
        check("smtp.timeout", old.smtp.timeout, new.smtp.timeout)
        check("sync.daily_window_start", old.sync.dailyWindowStartMinutes, new.sync.dailyWindowStartMinutes)
        check("sync.daily_window_length", old.sync.dailyWindowLength, new.sync.dailyWindowLength)
        check("sync.mass_deletion_threshold", old.sync.massDeletionThreshold, new.sync.massDeletionThreshold)
        check("sync.max_concurrent_tenants", old.sync.maxConcurrentTenants, new.sync.maxConcurrentTenants)
        check("tokens.refresh_margin", old.tokens.refreshMargin, new.tokens.refreshMargin)
        check("tokens.max_in_flight", old.tokens.maxInFlight, new.tokens.maxInFlight)
        check("hooks", old.hooks, new.hooks)
        check("metrics.listen", old.metrics.listen, new.metrics.listen)
        return keys
    }
}
