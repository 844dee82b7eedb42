import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// The Microsoft 365 emulator: identity platform, Microsoft Graph directory and an admin API on one loopback port.
///
/// Run it as a `Service` in a `ServiceGroup`, or scope it to a block with `withRunning`:
/// ```swift
/// try await M365Emulator.withRunning(configuration: .init(users: 20), logger: logger) { emulator, url in
///     // url is http://127.0.0.1:PORT
/// }
/// ```
/// Every admin operation is a method here as well as an HTTP endpoint under `/_emulator/`.
public final class M365Emulator: Service, Sendable {
    let state: EmulatorState
    let logger: Logger
    private let bound = Mutex<URL?>(nil)

    /// Builds the tenants (deterministically from the configuration's seed); nothing listens until `run`.
    public init(configuration: EmulatorConfiguration = EmulatorConfiguration(), logger: Logger) {
        self.state = EmulatorState(configuration: configuration)
        self.logger = logger
    }

    /// The configuration the emulator was built with.
    public var configuration: EmulatorConfiguration { state.configuration }

    /// The base URL (`http://127.0.0.1:PORT`) once the server is listening.
    public var baseURL: URL? { bound.withLock { $0 } }

    /// Runs the HTTP server until the task is cancelled or the service group shuts down.
    public func run() async throws {
        try await run(onBound: { _ in })
    }

    /// Runs the HTTP server; `onBound` receives the base URL as soon as the port is bound.
    public func run(onBound: @escaping @Sendable (URL) async -> Void) async throws {
        let configuration = state.configuration
        let app = Application(
            responder: EmulatorResponder(emulator: self),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "tenantsync-emulator"),
            onServerRunning: { [self] channel in
                let port = channel.localAddress?.port ?? configuration.port
                let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
                let url = URL(string: "http://\(host):\(port)")!
                self.state.baseURL = url.absoluteString
                self.bound.withLock { $0 = url }
                self.logger.info("Emulator listening", metadata: ["emulator.url": "\(url.absoluteString)"])
                await onBound(url)
            },
            logger: logger)
        try await app.run()
    }

    /// Starts an emulator, runs `body` with it and its base URL, then stops it.
    public static func withRunning<T: Sendable>(
        configuration: EmulatorConfiguration = EmulatorConfiguration(),
        logger: Logger,
        _ body: @Sendable (M365Emulator, URL) async throws -> T
    ) async throws -> T {
        let emulator = M365Emulator(configuration: configuration, logger: logger)
        let (urls, continuation) = AsyncStream<URL>.makeStream()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { continuation.finish() }
                try await emulator.run(onBound: { url in continuation.yield(url) })
            }
            var iterator = urls.makeAsyncIterator()
            guard let url = await iterator.next() else {
                try await group.waitForAll()
                throw EmulatorError(code: "not_started", message: "The emulator stopped before it was listening")
            }
            do {
                let result = try await body(emulator, url)
                group.cancelAll()
                return result
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }
}
