import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import TenantSyncCore

/// A short-lived HTTP listener on 127.0.0.1 that receives the authorization-code redirect.
///
/// It binds an ephemeral port only for the duration of ``withListener(path:expectedState:maximumRequests:logger:_:)``
/// (one pending consent), answers the browser with a short page, and hands the first redirect
/// on `path` to the caller. Microsoft accepts any port on a loopback redirect URI
/// ("Redirect URI (reply URL) restrictions": the port is ignored for `http://127.0.0.1`), so
/// no port needs registering in advance.
public struct LoopbackRedirectListener: Sendable {
    /// The redirect URI to send in the authorize request: `http://127.0.0.1:PORT/path`.
    public let redirectURI: String
    /// The port the listener is bound to.
    public let port: Int
    private let redirects: AsyncStream<AuthorizationRedirect>

    /// Binds the listener, runs `body`, and closes the listener whether `body` returns or throws.
    ///
    /// - Parameters:
    ///   - path: the redirect path; other paths answer 404 and are ignored.
    ///   - expectedState: the `state` sent in the authorize URL; a redirect with another state is refused.
    ///   - maximumRequests: requests served in all; later connections are closed unanswered.
    public static func withListener<T: Sendable>(
        path: String = "/tenantsync/consent", expectedState: String, maximumRequests: Int = 32, logger: Logger,
        _ body: (LoopbackRedirectListener) async throws -> T
    ) async throws -> T {
        let (stream, continuation) = AsyncStream.makeStream(of: AuthorizationRedirect.self, bufferingPolicy: .bufferingOldest(8))
        let budget = RequestBudget(maximumRequests)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 16)
            .childChannelInitializer { channel in
                guard budget.take() else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(
                        RedirectRequestHandler(path: path, expectedState: expectedState) { continuation.yield($0) }
                    )
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = channel.localAddress?.port ?? 0
        let listener = LoopbackRedirectListener(redirectURI: "http://127.0.0.1:\(port)\(path)", port: port, redirects: stream)
        logger.info("Loopback redirect listener open", metadata: ["listener.port": "\(port)"])
        do {
            let result = try await body(listener)
            try? await channel.close()
            continuation.finish()
            logger.info("Loopback redirect listener closed", metadata: ["listener.port": "\(port)"])
            return result
        } catch {
            try? await channel.close()
            continuation.finish()
            logger.info("Loopback redirect listener closed", metadata: ["listener.port": "\(port)"])
            throw error
        }
    }

    /// The next redirect on the path, or `nil` when none arrived within `timeout`.
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

/// How many requests the listener still serves; shared by every accepted connection.
private final class RequestBudget: Sendable {
    private let remaining: Mutex<Int>
    init(_ count: Int) { remaining = Mutex(count) }

    func take() -> Bool {
        remaining.withLock { count in
            guard count > 0 else { return false }
            count -= 1
            return true
        }
    }
}

/// Answers one redirect request per connection and reports what it carried.
private final class RedirectRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let path: String
    let expectedState: String
    let deliver: @Sendable (AuthorizationRedirect) -> Void
    private var head: HTTPRequestHead?

    init(path: String, expectedState: String, deliver: @escaping @Sendable (AuthorizationRedirect) -> Void) {
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
            if let outcome { deliver(outcome) }
        }
    }

    /// The response and the outcome of one request; pure so the rules read in one place.
    static func answer(_ head: HTTPRequestHead, path: String, expectedState: String) -> (HTTPResponseStatus, String, AuthorizationRedirect?) {
        let parts = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.first.map(String.init) == path else { return (.notFound, "Not found.", nil) }
        guard head.method == .GET else { return (.methodNotAllowed, "Only GET is accepted here.", nil) }
        var query: [String: String] = [:]
        if parts.count > 1 {
            for (key, value) in FormEncoding.decode(parts[1]) where query[key] == nil { query[key] = value }
        }
        // RFC 6749 §10.12: a redirect whose state is not ours may be forged; refuse it before looking at anything else.
        guard let state = query["state"], state == expectedState else {
            return (.badRequest, "Refused: the state parameter does not match this sign-in. Nothing was redeemed; start the step again.", .stateMismatch)
        }
        if let error = query["error"], !error.isEmpty {
            let description = query["error_description"]
            return (.ok, "The consent was not given (\(error)). Return to the terminal.", .error(error: error, description: description, subcode: query["error_subcode"]))
        }
        if let code = query["code"], !code.isEmpty {
            return (.ok, "Signed in. You can close this window and return to the terminal.", .code(Secret(code)))
        }
        if let adminConsent = query["admin_consent"], adminConsent.lowercased() == "true" {
            return (.ok, "Admin consent recorded. Return to the terminal.", .adminConsent(tenant: query["tenant"]))
        }
        return (.badRequest, "Refused: the redirect carries neither a code nor an error.", .malformed)
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
