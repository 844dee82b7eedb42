@testable import ControlPlane
import Foundation
import Logging
import NIOPosix
import ServiceLifecycle
import TenantSyncCore

/// Runs a real ControlServer on a temp socket for the duration of a test.
enum ControlServerHarness {
    /// Silent unless CONTROL_TEST_LOG is set (then debug logs go to stderr, for diagnosing a failure).
    static let logger: Logger = {
        guard ProcessInfo.processInfo.environment["CONTROL_TEST_LOG"] != nil else {
            return Logger(label: "control-test") { _ in SwiftLogNoOpLogHandler() }
        }
        var logger = Logger(label: "control-test") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .debug
        return logger
    }()

    /// A fresh directory that other users can traverse (for the non-root client tests).
    static func makeDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ctl-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        return path
    }

    static func withServer<Result>(
        handler: any ControlHandler = TestControlHandler(),
        configure: (inout ControlServerConfiguration) -> Void = { _ in },
        clock: any Clock<Duration> = ContinuousClock(),
        authorize: (@Sendable (PeerCredentials) -> Bool)? = nil,
        blockingPool: NIOThreadPool = .singleton,
        _ body: (_ socketPath: String, _ server: ControlServer) async throws -> Result
    ) async throws -> Result {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/control"
        var configuration = ControlServerConfiguration(listener: .path(path), info: VarlinkServiceInfo(version: "9.9.9"))
        configure(&configuration)
        let policy = ControlAccessPolicy(groupName: configuration.controlGroup)
        let server = ControlServer(
            configuration: configuration, handler: handler, eventLoopGroup: MultiThreadedEventLoopGroup.singleton, clock: clock, logger: logger,
            authorize: authorize ?? policy.allows, blockingPool: blockingPool
        )
        let group = ServiceGroup(services: [server], gracefulShutdownSignals: [], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                try await server.waitUntilListening()
                let result = try await body(path, server)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }
}
