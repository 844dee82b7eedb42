import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import TenantSyncCore

/// A short-lived HTTP listener on 127.0.0.1 that receives the authorization-code redirect.
///
/// It binds an ephemeral port only for the duration of ``withListener(path:expectedState:maximumConnections:readTimeout:logger:_:)``
/// (one pending consent), answers the browser with a short page, and hands the redirects on `path`
/// that carry the expected `state` to the caller. Microsoft accepts any port on a loopback redirect URI
/// ("Redirect URI (reply URL) restrictions": the port is ignored for `http://127.0.0.1`), so
/// no port needs registering in advance.
///
/// Any local user can connect to the port, so nothing a connection without the right `state` does can end
/// the wait: a redirect with another `state` is refused with an error page and counted, and the listener
/// keeps waiting for the administrator's; a connection that sends nothing is closed after `readTimeout`;
/// connections beyond `maximumConnections` at once are closed unanswered, but only while the others are open.
public struct LoopbackRedirectListener: Sendable {
    /// The redirect URI to send in the authorize request: `http://127.0.0.1:PORT/path`.
    public let redirectURI: String
    /// The port the listener is bound to.
    public let port: Int
    private let redirects: AsyncStream<AuthorizationRedirect>
    private let refusals: RefusalCounter
    private let connections: OpenConnections

    /// Redirects refused so far because their `state` was missing or not the expected one.
    public var refusedRedirects: Int { refusals.count }

    /// Connections admitted and still open.
    public var openConnections: Int { connections.count }

    /// Binds the listener, runs `body`, and closes the listener and every connection still open whether `body`
    /// returns or throws.
    ///
    /// - Parameters:
    ///   - path: the redirect path; other paths answer 404 and are ignored.
    ///   - expectedState: the `state` sent in the authorize URL; a redirect with another state is refused and counted.
    ///   - maximumConnections: connections served at once; further ones are closed unanswered.
    ///   - readTimeout: a connection that sends nothing for this long is closed.
    public static func withListener<T: Sendable>(
        path: String = "/tenantsync/consent", expectedState: String, maximumConnections: Int = 16, readTimeout: Duration = .seconds(30),
        logger: Logger, _ body: (LoopbackRedirectListener) async throws -> T
    ) async throws -> T {
        let (stream, continuation) = AsyncStream.makeStream(of: AuthorizationRedirect.self, bufferingPolicy: .bufferingOldest(8))
        let connections = OpenConnections(limit: maximumConnections)
        let refusals = RefusalCounter()
        let idle = TimeAmount.nanoseconds(Int64(readTimeout.components.seconds) * 1_000_000_000 + readTimeout.components.attoseconds / 1_000_000_000)
        let portBox = Mutex(0)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 16)
            .childChannelInitializer { channel in
                guard connections.admit(channel) else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        RedirectRequestHandler(path: path, expectedState: expectedState) { outcome in
                            if let outcome {
                                continuation.yield(outcome)
                            } else {
                                let refused = refusals.increment()
                                logger.warning(
                                    "Loopback redirect refused",
                                    metadata: ["listener.port": "\(portBox.withLock { $0 })", "redirect.refused": "\(refused)", "redirect.reason": "state-mismatch"]
                                )
                            }
                        }
                    )
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = channel.localAddress?.port ?? 0
        portBox.withLock { $0 = port }
        let listener = LoopbackRedirectListener(
            redirectURI: "http://127.0.0.1:\(port)\(path)", port: port, redirects: stream, refusals: refusals, connections: connections
        )
        logger.info("Loopback redirect listener open", metadata: ["listener.port": "\(port)"])
        let result: Result<T, any Error>
        do {
            result = .success(try await body(listener))
        } catch {
            result = .failure(error)
        }
        try? await channel.close()
        // The server channel's close does not reach accepted connections: a browser (or anyone) still connected
        // would keep the consent's port half alive.
        await connections.closeAll()
        continuation.finish()
        logger.info("Loopback redirect listener closed", metadata: ["listener.port": "\(port)", "redirect.refused": "\(refusals.count)"])
        return try result.get()
    }

    /// The next redirect on the path with the expected state, or `nil` when none arrived within `timeout`.
    public func next<C: Clock<Duration>>(timeout: Duration, clock: C = ContinuousClock()) async throws -> AuthorizationRedirect? {
        let redirects = self.redirects
        return try await withThrowingTaskGroup(of: AuthorizationRedirect?.self) { group in
            group.addTask {
                var iterator = redirects.makeAsyncIterator()
                return await iterator.next()
            }
            group.addTask {
                try await clock.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}

/// Counts refused redirects; shared by every connection's handler.
private final class RefusalCounter: Sendable {
    private let value = Mutex(0)

    /// Adds one; returns the new count.
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
    var count: Int { value.withLock { $0 } }
}

/// The accepted connections still open, so the listener can close them when it closes, and bound how many
/// are open at once.
private final class OpenConnections: Sendable {
    private struct State {
        var open: [ObjectIdentifier: any Channel] = [:]
        var closed = false
    }

    private let state = Mutex(State())
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    var count: Int { state.withLock { $0.open.count } }

    /// Records a new connection; false when the listener is closing or `limit` connections are open.
    func admit(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = state.withLock { state in
            guard !state.closed, state.open.count < limit else { return false }
            state.open[id] = channel
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { [self] _ in _ = state.withLock { $0.open.removeValue(forKey: id) } }
        }
        return admitted
    }

    /// Admits no more connections and closes the open ones; returns once they are closed.
    func closeAll() async {
        let open = state.withLock { state in
            state.closed = true
            return Array(state.open.values)
        }
        for channel in open {
            try? await channel.close()
        }
    }
}

/// Answers one redirect request per connection and reports what it carried.
private final class RedirectRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let path: String
    let expectedState: String
    /// Called with the outcome of a redirect on the path, or `nil` for one refused for its state.
    let deliver: @Sendable (AuthorizationRedirect?) -> Void
    private var head: HTTPRequestHead?

    init(path: String, expectedState: String, deliver: @escaping @Sendable (AuthorizationRedirect?) -> Void) {
        self.path = path
        self.expectedState = expectedState
        self.deliver = deliver
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let (status, page, outcome) = Self.answer(head, path: path, expectedState: expectedState)
            respond(context: context, status: status, page: page)
            switch outcome {
            case .some(.delivered(let redirect)): deliver(redirect)
            case .some(.refused): deliver(nil)
            case nil: break
            }
        }
    }

    /// The read timeout of ``IdleStateHandler``: a connection that sends nothing is closed.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// What a request on the path amounts to.
    enum Outcome: Equatable {
        /// For the caller: the state matched.
        case delivered(AuthorizationRedirect)
        /// Refused for its missing or wrong state; counted, not delivered.
        case refused
    }

    /// The response and the outcome of one request; pure so the rules read in one place.
    static func answer(_ head: HTTPRequestHead, path: String, expectedState: String) -> (HTTPResponseStatus, String, Outcome?) {
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.first.map(String.init) == path else { return (.notFound, "Not found.", nil) }
        guard head.method == .GET else { return (.methodNotAllowed, "Only GET is accepted here.", nil) }
        var query: [String: String] = [:]
        if parts.count > 1 {
            for (key, value) in FormEncoding.decode(parts[1]) where query[key] == nil { query[key] = value }
        }
        // RFC 6749 §10.12: a redirect whose state is not ours may be forged; refuse it before looking at anything else.
        guard let state = query["state"], state == expectedState else {
            return (.badRequest, "Refused: the state parameter does not match this sign-in. Nothing was redeemed; use the sign-in URL the terminal shows.", .refused)
        }
        if let error = query["error"], !error.isEmpty {
            let description = query["error_description"]
            return (.ok, "The consent was not given (\(error)). Return to the terminal.", .delivered(.error(error: error, description: description, subcode: query["error_subcode"])))
        }
        if let code = query["code"], !code.isEmpty {
            return (.ok, "Signed in. You can close this window and return to the terminal.", .delivered(.code(Secret(code))))
        }
        if let adminConsent = query["admin_consent"], adminConsent.lowercased() == "true" {
            return (.ok, "Admin consent recorded. Return to the terminal.", .delivered(.adminConsent(tenant: query["tenant"])))
        }
        return (.badRequest, "Refused: the redirect carries neither a code nor an error.", .delivered(.malformed))
    }

    private func respond(context: ChannelHandlerContext, status: HTTPResponseStatus, page: String) {
        let html = "<!doctype html><html><head><meta charset=\"utf-8\"><title>tenantsync</title></head><body><p>\(Self.escapeHTML(page))</p></body></html>\n"
        var buffer = context.channel.allocator.buffer(capacity: html.utf8.count)
        buffer.writeString(html)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/html; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(buffer.readableBytes)")
        headers.add(name: "Connection", value: "close")
        headers.add(name: "Cache-Control", value: "no-store")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    static func escapeHTML(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
