import Credentials
import Alerting
import AsyncHTTPClient
import ControlPlane
import Foundation
import Logging
import MicrosoftCloud
import ServiceLifecycle
import Systemd
import TenantSyncConfig
import TenantSyncCore
import TenantSyncMetrics

/// The tenantsync daemon: opens its state, then runs every long-lived service in one `ServiceGroup`.
public struct Daemon: Sendable {
    public var configurationPath: String?
    public var configuration: DaemonConfiguration
    public var environment: [String: String]
    public var logger: Logger

    public init(configurationPath: String?, configuration: DaemonConfiguration, environment: [String: String], logger: Logger) {
        self.configurationPath = configurationPath
        self.configuration = configuration
        self.environment = environment
        self.logger = logger
    }

    /// The token refresher's settings from a configuration.
    static func refresherConfiguration(_ configuration: DaemonConfiguration, alertChannels: [String]) -> TokenRefresherConfiguration {
        TokenRefresherConfiguration(
            schedule: RefreshSchedule(margin: configuration.tokens.refreshMargin),
            maxInFlight: configuration.tokens.maxInFlight, alertChannels: alertChannels
        )
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully within the configured bound.
    public func run() async throws {
        // The daemon's clients to Microsoft (through the outbound proxy where one is configured): their connection
        // pools live as long as the daemon, and they are shut down however the run ends.
        let http = MicrosoftHTTPClients(proxy: configuration.microsoft.proxy)
        let outcome: Result<Void, any Error>
        do {
            try await run(http: http)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await http.shutdown()
        try outcome.get()
    }

    /// Opens the state directory, then the key and the store (``withStore(in:_:)``), then runs the services.
    ///
    /// One-shot start-up work runs before any service starts; every failure is a `TenantSyncError` whose
    /// message is the one line the operator sees.
    private func run(http: MicrosoftHTTPClients) async throws {
        let stateDirectory = try StateDirectory(path: configuration.daemon.stateDirectory)
        try await withStore(in: stateDirectory) { store in
            try await run(http: http, stateDirectory: stateDirectory, store: store)
        }
        logger.info("tenantsyncd stopped")
        // The directory's lock is held until the store is closed.
        withExtendedLifetime(stateDirectory) {}
    }

    private func run(http: MicrosoftHTTPClients, stateDirectory: StateDirectory, store: any DaemonStorage) async throws {
        let notifier = SystemdNotifier(environment: environment)
        let settings = RuntimeSettings(configuration)
        let startedAt = Date()

        let endpoints = MicrosoftEndpoints(
            authority: configuration.microsoft.authority, graph: configuration.microsoft.graph, outlook: configuration.microsoft.outlook,
            management: configuration.microsoft.management
        )
        let identity = try IdentityPlatformClient(
            httpClient: http.client(for: endpoints.authority), endpoints: endpoints, requestTimeout: configuration.microsoft.requestTimeout, logger: logger
        )
        var graph = GraphClient(graphRoot: endpoints.graph, http: http.client(for: endpoints.graph), requestTimeout: configuration.microsoft.requestTimeout, logger: logger)
        // One pacer for the whole daemon: every tenant's bucket and the app's bucket live in it.
        graph.pacer = GraphPacer(share: configuration.sync.graphBudgetShare)
        // Reloadable keys are read from `settings` where they are used (the expressions passed as autoclosures
        // below are evaluated at each use), or pushed into their objects by the reload listener at the end.
        let productApp = { @Sendable in
            let microsoft = settings.configuration.microsoft
            if let certificate = microsoft.clientCertificate { return OAuthClientCredentials(clientID: microsoft.clientID, certificate: certificate) }
            return OAuthClientCredentials(clientID: microsoft.clientID, clientSecret: microsoft.clientSecret)
        }

        // The cluster: on a store several daemons share, this daemon is one node; its services take leased work.
        let cluster = (store as? any LeaseStore).map { leases in
            ClusterNode(
                name: configuration.daemon.nodeName, store: leases, version: "\(TenantSyncVersion.current)", startedAt: startedAt,
                leaseDuration: configuration.cluster.leaseDuration, logger: logger
            )
        }
        try await cluster?.announce()

        // Alerts: the outbox first, then one dispatcher delivering to every channel.
        // The journal channel only where journald listens; elsewhere it could never deliver.
        let channelFactory = AlertChannelFactory(journal: JournalWriter.isJournalAvailable, logger: logger)
        let channels = AlertChannelSet(channelFactory.channels(configuration))
        let outboxSignal = WakeSignal()
        let observation = store.observeAlertOutbox { outboxSignal.signal() }
        defer { observation.cancel() }
        let dispatcher = AlertDispatcher(store: store, channels: channels, signal: outboxSignal, logger: logger)
        if let cluster { dispatcher.shareDeliveries(through: cluster) }

        // Metrics: the services below report events to the exporter; a scrape reads the state from the store.
        let exporter = PrometheusExporter(
            version: "\(TenantSyncVersion.current)", node: configuration.daemon.nodeName, source: store, channels: { channels.names },
            refreshMargin: { settings.configuration.tokens.refreshMargin }, logger: logger
        )
        let metricsEndpoint = MetricsEndpoint(listen: configuration.metrics.listen, exporter: exporter, logger: logger)
        graph.observer = GraphMetricsBridge(metrics: exporter)
        dispatcher.observeDeliveries { channel, delivered in exporter.alertDeliveryFinished(channel: channel, delivered: delivered) }

        // Tokens.
        let refresher = TokenRefresher(
            storage: store,
            granter: MicrosoftTokenGranter(client: identity, productApp: productApp(), accounts: store),
            configuration: Self.refresherConfiguration(configuration, alertChannels: channels.names),
            logger: logger, metrics: exporter, leasing: cluster
        )

        // Directory sync.
        let heartbeat = Heartbeat()
        let coordinator = SyncCoordinator()
        let graphTokens = StoredGraphTokenSource(refresher: refresher, storage: store, graphScope: endpoints.graphDefaultScope)
        let budget = EvaluationBudget(
            storage: store, tokens: graphTokens, monthlyCalls: configuration.teams.evaluationMonthlyCalls,
            alertChannels: channels.names, logger: logger
        )
        var synchronizer = DirectorySynchronizer(
            store: store, graph: graph, tokens: graphTokens,
            settings: .init(massDeletionThreshold: settings.configuration.sync.massDeletionThreshold), meter: budget,
            alerts: store, alertChannels: channels.names, logger: logger
        )
        synchronizer.metrics = exporter
        let scheduler = SyncScheduler(
            coordinator: coordinator, synchronizer: synchronizer, store: store, settings: settings, heartbeat: heartbeat,
            changes: store as? any ScheduleChangeSource, leasing: cluster, logger: logger
        )
        let operations = TenantOperations(store: store, graph: graph, tokens: graphTokens, coordinator: coordinator, logger: logger)

        let reloader = ConfigurationReloader(
            path: configurationPath, loader: ConfigurationLoader(environment: environment), settings: settings,
            notifier: notifier, logger: logger
        )
        let provisioner = Provisioner(
            store: store, identity: identity, graph: graph, productApp: productApp(), refresher: refresher, operations: operations,
            coordinator: coordinator, alertChannels: channels.names,
            consentTimeout: configuration.provisioning.consentTimeout, meter: budget, http: http, leasing: cluster, logger: logger
        )
        // Credential expiry: the product app's, as configured now; the Teams apps' were stored at provisioning.
        try await Self.recordProductCredentialExpiry(configuration, store: store)
        let expiryMonitor = CredentialExpiryMonitor(store: store, alertChannels: channels.names, clock: ContinuousClock(), logger: logger)
        await reloader.onReload { running, next in
            // Synchronous first (see `onReload`): the refresher's settings, the metrics address, then the channel set inside `reconfigure`.
            let nextChannels = channelFactory.channels(next)
            refresher.reconfigure { $0 = Self.refresherConfiguration(next, alertChannels: nextChannels.map(\.name)) }
            metricsEndpoint.rebind(to: next.metrics.listen)
            do {
                try await dispatcher.reconfigure(channels: nextChannels, changed: AlertChannelFactory.changedChannels(from: running, to: next))
            } catch {
                logger.error("Pending alert deliveries could not be updated after a reload", metadata: ["error": "\(error)"])
            }
            // A raised `sync.max_concurrent_tenants` may start queued runs now.
            await coordinator.settingsChanged()
            // A rotated certificate or secret: its expiry replaces the old one's, whose alerts no longer apply.
            do {
                try await Self.recordProductCredentialExpiry(next, store: store)
                await expiryMonitor.check()
            } catch {
                logger.error("The product app's credential expiry could not be stored after a reload", metadata: ["error": "\(error)"])
            }
        }
        let status = StatusReporter(
            store: store, scheduler: scheduler, deliveryHealth: { dispatcher.health },
            storeWriteFailure: { refresher.storeWriteFailure }, credentialExpiries: { try await store.credentialExpiries() },
            notifier: notifier, logger: logger
        )

        // The control socket: inherited from systemd socket activation, or created here.
        let inherited = try SocketActivation.listenedSockets().first
        let control = ControlServer(
            configuration: ControlServerConfiguration(
                listener: inherited.map { .inheritedDescriptor($0.fileDescriptor) } ?? .path(configuration.daemon.controlSocket),
                controlGroup: configuration.daemon.controlGroup,
                info: VarlinkServiceInfo(version: TenantSyncVersion.current)
            ),
            handler: DaemonControl(
                store: store, operations: operations, coordinator: coordinator, scheduler: scheduler, reloader: reloader,
                status: status, provisioning: provisioner, startedAt: startedAt, nodeName: configuration.daemon.nodeName,
                cluster: (store as? any LeaseStore).map { leases in
                    ClusterView(leaseDuration: configuration.cluster.leaseDuration, nodes: { try await leases.nodes() })
                },
                leasing: cluster
            ),
            logger: logger
        )

        // On a shared store, runs going on other nodes (under their sync leases) are left alone.
        let interrupted = try await store.failInterruptedSyncRuns(at: Date())
        if interrupted > 0 {
            logger.warning("Sync runs interrupted by the last stop were marked failed", metadata: ["sync.interrupted": "\(interrupted)"])
        }
        let schemaVersion = try await store.schemaVersion()
        let announcer = ReadinessAnnouncer(
            notifier: notifier, logger: logger, waitUntilReady: { try await control.waitUntilListening() },
            status: { try? await status.line().text },
            metadata: [
                "daemon.version": "\(TenantSyncVersion.current)",
                "daemon.state_directory": "\(stateDirectory.path)",
                "daemon.control_socket": "\(inherited.map { "fd \($0.fileDescriptor) (socket activation)" } ?? configuration.daemon.controlSocket)",
                "store.schema_version": "\(schemaVersion)",
                "config.file": "\(configuration.sourceFile)",
            ]
        )
        var services: [any Service] = [control, announcer, reloader, dispatcher, refresher, scheduler, status, expiryMonitor, metricsEndpoint]
        // Before the services that work under its leases, so that it stops after them and releases what they held.
        if let cluster { services.insert(cluster, at: 0) }
        // TEST ONLY (`[daemon] testing_fault_switches`): SIGUSR1 makes the watchdog's health check hang.
        let faultSwitch = configuration.daemon.testingFaultSwitches ? TestingFaultSwitch(logger: logger) : nil
        if let faultSwitch { services.append(faultSwitch) }
        if let watchdog = WatchdogConfiguration.fromEnvironment(environment) {
            // Healthy means: the scheduler loop is alive and the database answers and accepts a committed write
            // (a daemon that cannot persist a rotated refresh token must look unhealthy to systemd).
            let health: WatchdogService<ContinuousClock>.HealthCheck = {
                guard await faultSwitch?.healthCheck() ?? true else { return false }
                guard heartbeat.isAlive(within: .seconds(180)) else { return false }
                // A shared database that does not answer is not this daemon hanging: the status says so and the
                // services retry; a restart would not bring the database back, only lose the node's leases.
                if cluster != nil { return true }
                do {
                    try await store.ping()
                    try await store.probeWrite(at: Date())
                    return true
                } catch {
                    return false
                }
            }
            // First in the group, so that it is the last to stop.
            services.insert(WatchdogService(configuration: watchdog, notifier: notifier, logger: logger, healthCheck: health), at: 0)
        }
        var groupConfiguration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = configuration.daemon.shutdownTimeout
        groupConfiguration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: groupConfiguration)

        try await group.run()
    }
}
