import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TenantSyncCore

/// Serves `GET /metrics` (Prometheus text format) on the configured address, and rebinds when a reload changes it.
///
/// The server runs on SwiftNIO's event loops (Hummingbird), apart from the daemon's services: a slow
/// or stuck scraper holds a connection, never the token refresher or the scheduler. A scrape reads
/// the state through ``PrometheusExporter``, at most once per its cache age.
public final class MetricsEndpoint: Service, Sendable {
    private let exporter: PrometheusExporter
    private let logger: Logger
    private let addresses: AsyncStream<MetricsListenAddress?>
    private let continuation: AsyncStream<MetricsListenAddress?>.Continuation
    private let bound = Mutex<MetricsListenAddress?>(nil)
    /// The address whose listener gave up (its bind failed): a reload naming it again retries the bind.
    private let failed = Mutex<MetricsListenAddress?>(nil)

    /// - Parameter listen: the address at start; `nil` serves nothing until a reload sets one.
    public init(listen: MetricsListenAddress?, exporter: PrometheusExporter, logger: Logger) {
        self.exporter = exporter
        self.logger = logger
        (addresses, continuation) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
        continuation.yield(listen)
    }

    /// Puts a reloaded `[metrics] listen` in force: the old listener closes, the new one (if any) opens.
    public func rebind(to listen: MetricsListenAddress?) {
        continuation.yield(listen)
    }

    /// The address actually bound (the port filled in when 0 was asked for); `nil` while nothing listens.
    public var boundAddress: MetricsListenAddress? { bound.withLock { $0 } }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            var current: MetricsListenAddress?? = .none
            var running: Listener?
            for await address in addresses.cancelOnGracefulShutdown() {
                // The same address again is a no-op, unless its bind failed: the reload may follow freeing the port.
                if current == .some(address), address == nil || failed.withLock({ $0 != address }) { continue }
                current = .some(address)
                // One listener at a time: the previous one is closed before the next binds (it may reuse the port).
                let wasListening = running != nil
                await running?.close()
                running = nil
                guard let address else {
                    if wasListening { logger.info("Metrics endpoint off") }
                    continue
                }
                failed.withLock { $0 = nil }
                let listener = Listener()
                running = listener
                group.addTask { await listener.run { await self.serve(address) } }
            }
            await running?.close()
        }
        continuation.finish()
    }

    /// One listener's lifetime: it serves until ``close()``, which returns once it has stopped.
    ///
    /// A task group cannot cancel one of its tasks (and `cancelAll` would cancel every later one), so each
    /// listener runs in a group of its own that a stop signal ends.
    private struct Listener: Sendable {
        private let stop = AsyncStream<Void>.makeStream()
        private let closed = AsyncStream<Void>.makeStream()

        func run(_ serve: @escaping @Sendable () async -> Void) async {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await serve() }
                group.addTask { [stop] in for await _ in stop.stream {} }
                await group.next()
                group.cancelAll()
            }
            closed.continuation.finish()
        }

        func close() async {
            stop.continuation.finish()
            for await _ in closed.stream {}
        }
    }

    private func serve(_ address: MetricsListenAddress) async {
        let router = Router()
        let exporter = self.exporter
        router.get("metrics") { _, _ -> Response in
            // The parts go out as they are: a fleet's state text is tens of megabytes, and it is not copied.
            let exposition = await exporter.exposition()
            return Response(
                status: .ok, headers: [.contentType: PrometheusExporter.contentType],
                body: ResponseBody(contentsOf: exposition.parts)
            )
        }
        // Hummingbird narrates its own start and stop at info level, in its own words; the daemon logs those
        // events itself (constant messages, dotted keys), so only Hummingbird's warnings and errors pass.
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .warning)
        let app = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(address.host, port: address.port), serverName: "tenantsyncd"),
            onServerRunning: { [self] channel in
                let actual = MetricsListenAddress(host: address.host, port: channel.localAddress?.port ?? address.port)
                setBound(actual)
                logger.info("Metrics endpoint listening", metadata: ["metrics.listen": "\(actual)"])
                // The first read (every tenant written) starts now, not with the first scrape; one that arrives
                // meanwhile waits for the same read.
                Task { await exporter.prepare() }
            },
            logger: serverLogger
        )
        do {
            try await app.run()
        } catch is CancellationError {
        } catch {
            // The daemon's work goes on without metrics; Prometheus sees the target down and the log says why.
            failed.withLock { $0 = address }
            logger.error(
                "Metrics endpoint could not listen; fix [metrics] listen and reload",
                metadata: ["metrics.listen": "\(address)", "error": "\(error)"]
            )
        }
        setBound(nil)
    }

    private func setBound(_ address: MetricsListenAddress?) {
        bound.withLock { $0 = address }
    }
}
