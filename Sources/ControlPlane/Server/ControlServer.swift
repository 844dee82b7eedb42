#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The Varlink control socket as a long-lived service.
///
/// On graceful shutdown it closes the listener, closes idle connections, lets
/// running calls finish (then closes their connections), and removes the
/// socket file it created.
public final class ControlServer: Service, Sendable {
    private let configuration: ControlServerConfiguration
    private let dispatcher: ControlDispatcher
    /// Whether a peer may call: the access policy, run on ``blockingPool`` because NSS lookups block.
    private let authorize: @Sendable (PeerCredentials) -> Bool
    private let blockingPool: NIOThreadPool
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private let listening = Mutex<ListeningState>(.notYet([]))
    private let counter: ConnectionCounter
    /// Times the idle timeout of connections.
    private let clock: any Clock<Duration>

    private enum ListeningState {
        case notYet([CheckedContinuation<Void, any Error>])
        case listening
        case failed(ControlServerError)
    }

    public convenience init(
        configuration: ControlServerConfiguration,
        handler: any ControlHandler,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        clock: any Clock<Duration> = ContinuousClock(),
        logger: Logger
    ) {
        let policy = ControlAccessPolicy(groupName: configuration.controlGroup)
        self.init(configuration: configuration, handler: handler, eventLoopGroup: eventLoopGroup, clock: clock, logger: logger, authorize: policy.allows)
    }

    /// - Parameter authorize: the access decision; tests replace the policy to watch where it runs.
    init(
        configuration: ControlServerConfiguration, handler: any ControlHandler, eventLoopGroup: any EventLoopGroup, clock: any Clock<Duration>,
        logger: Logger, authorize: @escaping @Sendable (PeerCredentials) -> Bool, blockingPool: NIOThreadPool = .singleton
    ) {
        self.clock = clock
        self.configuration = configuration
        self.authorize = authorize
        self.blockingPool = blockingPool
        self.dispatcher = ControlDispatcher(handler: handler, info: configuration.info, controlGroup: configuration.controlGroup, logger: logger)
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        self.counter = ConnectionCounter(limit: configuration.maximumConnections)
    }

    /// Connections being served now.
    public var openConnections: Int { counter.current }

    /// Returns once the socket accepts connections; throws if binding failed.
    public func waitUntilListening() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            listening.withLock { state in
                switch state {
                case .notYet(var waiting):
                    waiting.append(continuation)
                    state = .notYet(waiting)
                case .listening:
                    continuation.resume()
                case .failed(let error):
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    private func setListening(_ outcome: Result<Void, ControlServerError>) {
        let waiting = listening.withLock { state -> [CheckedContinuation<Void, any Error>] in
            guard case .notYet(let waiting) = state else { return [] }
            switch outcome {
            case .success: state = .listening
            case .failure(let error): state = .failed(error)
            }
            return waiting
        }
        for continuation in waiting { continuation.resume(with: outcome.mapError { $0 }) }
    }

    public func run() async throws {
        let server: NIOAsyncChannel<AcceptedConnection, Never>
        var ownedFile: SocketFileIdentity?
        do {
            (server, ownedFile) = try await bind()
        } catch let error as ControlServerError {
            setListening(.failure(error))
            throw error
        } catch {
            let wrapped = ControlServerError(.socketUnavailable, "cannot listen on the control socket: \(error)")
            setListening(.failure(wrapped))
            throw wrapped
        }
        defer { ownedFile?.removeIfUnchanged() }
        logger.info("Control socket listening", metadata: ["control.socket": "\(ownedFile?.path ?? "inherited")"])
        setListening(.success(()))

        let serverChannel = server.channel
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        guard counter.acquire() else {
                            logger.warning("Control connection refused: too many connections", metadata: ["control.limit": "\(counter.limit)"])
                            connection.channel.close(promise: nil)
                            continue
                        }
                        group.addTask {
                            defer { self.counter.release() }
                            await self.serve(connection)
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            serverChannel.close(promise: nil)
        }
        logger.info("Control socket stopped")
    }

    /// One accepted connection, its pipeline set up but not yet reading.
    ///
    /// The async wrapper is made by the connection's own task: an accepted
    /// connection that the accept loop never sees (it arrives while the
    /// listener closes) is then a plain channel, not a wrapper that must be
    /// finished before release.
    struct AcceptedConnection: Sendable {
        let channel: any Channel
        let activity: ConnectionActivity
    }

    private func bind() async throws -> (NIOAsyncChannel<AcceptedConnection, Never>, SocketFileIdentity?) {
        let maximumMessageSize = configuration.maximumMessageSize
        let bootstrap = ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 128)
            // Nothing is read before the connection's task wraps the channel, so no byte is lost.
            .childChannelOption(.autoRead, value: false)
        let initializer: @Sendable (Channel) -> EventLoopFuture<AcceptedConnection> = { channel in
            channel.eventLoop.makeCompletedFuture {
                let activity = ConnectionActivity()
                let pipeline = channel.pipeline.syncOperations
                try pipeline.addHandler(ByteToMessageHandler(VarlinkFrameDecoder(maximumMessageSize: maximumMessageSize)))
                try pipeline.addHandler(MessageArrivalMarker(activity: activity))
                try pipeline.addHandler(MessageToByteHandler(VarlinkFrameEncoder()))
                return AcceptedConnection(channel: channel, activity: activity)
            }
        }
        switch configuration.listener {
        case .path(let path):
            try ControlSocketFile.prepare(path: path)
            let server = try await bootstrap.bind(unixDomainSocketPath: path, childChannelInitializer: initializer)
            do {
                try ControlSocketFile.restrict(path: path, groupName: configuration.controlGroup)
            } catch {
                try? await server.executeThenClose { _ in }
                throw error
            }
            return (server, SocketFileIdentity(path: path))
        case .inheritedDescriptor(let descriptor):
            let server = try await bootstrap.bind(descriptor, childChannelInitializer: initializer)
            return (server, nil)
        }
    }

    private func serve(_ connection: AcceptedConnection) async {
        let channel = connection.channel
        let accepted: (NIOAsyncChannel<VarlinkFrame, ByteBuffer>, PeerCredentials?)
        do {
            let peer = try? await PeerCredentials.read(from: channel).get()
            let wrapped = try await channel.eventLoop.submit {
                let wrapped = try NIOAsyncChannel<VarlinkFrame, ByteBuffer>(wrappingChannelSynchronously: channel)
                try channel.syncOptions?.setOption(.autoRead, value: true)
                return wrapped
            }.get()
            accepted = (wrapped, peer)
        } catch {
            channel.close(promise: nil)
            return
        }
        let (asyncChannel, peer) = accepted
        let allowed = await isAllowed(peer)
        logger.debug("Control connection opened", metadata: ["peer.uid": "\(peer?.uid ?? UInt32.max)", "control.allowed": "\(allowed)"])
        // The idle timer runs only while the read loop below waits for the client's next message.
        let idleTimer = ConnectionIdleTimer(clock: clock, timeout: configuration.idleTimeout, activity: connection.activity) { [logger] in
            logger.debug("Control connection closed after idling", metadata: ["peer.uid": "\(peer?.uid ?? UInt32.max)"])
            channel.close(promise: nil)
        }
        await withDiscardingTaskGroup { timerGroup in
            timerGroup.addTask { await idleTimer.run() }
            defer {
                idleTimer.finish()
                timerGroup.cancelAll()
            }
            await serveCalls(asyncChannel, connection: connection, peer: peer, allowed: allowed, idleTimer: idleTimer)
        }
    }

    /// Runs the access decision on the blocking pool: `getgrnam_r`, `getpwuid_r` and `getgrouplist` go through
    /// NSS, which may wait on a directory server; on a cooperative thread a few slow lookups would stall the
    /// whole daemon.
    private func isAllowed(_ peer: PeerCredentials?) async -> Bool {
        guard let peer else { return false }
        let authorize = self.authorize
        return (try? await blockingPool.runIfActive { authorize(peer) }) ?? false
    }

    private func serveCalls(
        _ asyncChannel: NIOAsyncChannel<VarlinkFrame, ByteBuffer>, connection: AcceptedConnection, peer: PeerCredentials?, allowed: Bool,
        idleTimer: ConnectionIdleTimer
    ) async {
        let channel = connection.channel
        let writeTimeout = ReplyWriteTimeout(clock: clock, duration: configuration.writeTimeout) { channel.close(promise: nil) }
        do {
            try await asyncChannel.executeThenClose { inbound, outbound in
                try await withGracefulShutdownHandler {
                    do {
                        var frames = inbound.makeAsyncIterator()
                        while true {
                            idleTimer.arm(connection.activity.awaitingMessage())
                            guard let frame = try await frames.next() else { return }
                            switch frame {
                            case .message(let message):
                                guard connection.activity.begin() else { return }
                                let outcome = await dispatcher.handle(message, peer: peer, allowed: allowed, outbound: outbound, timeout: writeTimeout)
                                connection.activity.end()
                                if outcome == .close || connection.activity.isDraining { return }
                            case .tooLarge(let limit):
                                logger.notice("Control message too large; connection closed", metadata: ["peer.uid": "\(peer?.uid ?? UInt32.max)"])
                                try? await VarlinkReplyWriter(outbound: outbound, oneway: false, timeout: writeTimeout).error(ControlError.messageTooLarge(limit: limit))
                                return
                            }
                        }
                    } catch VarlinkFrameError.messageTooLarge {
                        logger.notice("Control message never ended; connection closed", metadata: ["peer.uid": "\(peer?.uid ?? UInt32.max)"])
                    }
                } onGracefulShutdown: {
                    // No new calls; a running call still writes its reply, then the loop ends.
                    if connection.activity.drain() { channel.close(promise: nil) }
                }
            }
        } catch {
            logger.debug("Control connection failed", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
        }
    }
}

/// The socket file this server created, so it removes only its own on exit.
private struct SocketFileIdentity: Sendable {
    let path: String
    let device: UInt64
    let inode: UInt64

    init?(path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        self.path = path
        self.device = UInt64(info.st_dev)
        self.inode = UInt64(info.st_ino)
    }

    func removeIfUnchanged() {
        var info = stat()
        guard lstat(path, &info) == 0, UInt64(info.st_dev) == device, UInt64(info.st_ino) == inode else { return }
        unlink(path)
    }
}
