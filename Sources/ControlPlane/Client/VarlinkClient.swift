#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import NIOCore
import NIOPosix

/// One connection to a Varlink service over a Unix socket.
///
/// Calls on a connection run one after the other. Use it inside
/// ``withConnection(to:maximumMessageSize:eventLoopGroup:_:)``, which closes it.
public final class VarlinkClient {
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    private init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.inbound = inbound
        self.outbound = outbound
    }

    /// Connects to the socket at `path`, runs `body`, and closes the connection.
    public static func withConnection<Result>(
        to path: String,
        maximumMessageSize: Int = 64 << 20,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        _ body: (VarlinkClient) async throws -> Result
    ) async throws -> Result {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .connect(unixDomainSocketPath: path) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(ByteToMessageHandler(VarlinkFrameDecoder(maximumMessageSize: maximumMessageSize)))
                        // No frame encoder: `send` terminates each call itself and `sendRaw`
                        // must reach the wire as given (protocol and fuzz tests).
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw Self.connectError(error, path: path)
        }
        return try await channel.executeThenClose { inbound, outbound in
            let client = VarlinkClient(inbound: inbound.makeAsyncIterator(), outbound: outbound)
            return try await body(client)
        }
    }

    static func connectError(_ error: any Error, path: String) -> VarlinkClientError {
        var code: Int32?
        if let error = error as? IOError { code = error.errnoCode }
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first?.error as? IOError { code = first.errnoCode }
        switch code {
        case EACCES, EPERM:
            return VarlinkClientError(.permissionDenied, "permission denied on the control socket \(path)")
        case let code?:
            return VarlinkClientError(.unreachable, "cannot reach the daemon at \(path): \(String(cString: strerror(code)))")
        case nil:
            return VarlinkClientError(.unreachable, "cannot reach the daemon at \(path): \(error)")
        }
    }

    /// Calls a method and returns its single reply's parameters.
    public func call<Parameters: Encodable, Reply: Decodable>(
        _ method: String, parameters: Parameters, returning: Reply.Type = Reply.self
    ) async throws -> Reply {
        try await send(VarlinkOutgoingCall(method: method, parameters: parameters, more: nil, oneway: nil))
        let (reply, _) = try await receive(Reply.self)
        return reply
    }

    /// Calls a method with `more: true`; `onUpdate` gets every reply but the last, which is returned.
    public func callStreaming<Parameters: Encodable, Reply: Decodable>(
        _ method: String, parameters: Parameters, returning: Reply.Type = Reply.self,
        onUpdate: (Reply) async throws -> Void
    ) async throws -> Reply {
        try await send(VarlinkOutgoingCall(method: method, parameters: parameters, more: true, oneway: nil))
        while true {
            let (reply, continues) = try await receive(Reply.self)
            if !continues { return reply }
            try await onUpdate(reply)
        }
    }

    /// Calls a method with `oneway: true`; the server sends no reply.
    public func callOneway<Parameters: Encodable>(_ method: String, parameters: Parameters) async throws {
        try await send(VarlinkOutgoingCall(method: method, parameters: parameters, more: nil, oneway: true))
    }

    /// Sends raw bytes followed by nothing (the caller adds NUL terminators); for protocol tests.
    public func sendRaw(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Reads the next raw message; `nil` when the server closed the connection.
    public func receiveRaw() async throws -> [UInt8]? {
        guard let buffer = try await inbound.next() else { return nil }
        return Array(buffer.readableBytesView)
    }

    private func send<Parameters: Encodable>(_ call: VarlinkOutgoingCall<Parameters>) async throws {
        let data = try VarlinkJSON.makeEncoder().encode(call)
        var buffer = ByteBuffer(bytes: data)
        buffer.writeInteger(UInt8(0))
        try await outbound.write(buffer)
    }

    private func receive<Reply: Decodable>(_ type: Reply.Type) async throws -> (Reply, continues: Bool) {
        let next: ByteBuffer?
        do {
            next = try await inbound.next()
        } catch let error as VarlinkFrameError {
            throw VarlinkClientError(.protocolViolation, "the daemon's reply is too large: \(error)")
        } catch {
            throw VarlinkClientError(.connectionClosed, "the connection to the daemon failed: \(error)")
        }
        guard let message = next else {
            throw VarlinkClientError(.connectionClosed, "the daemon closed the connection")
        }
        let data = Data(message.readableBytesView)
        let decoder = VarlinkJSON.makeDecoder()
        let envelope: VarlinkIncomingErrorReply
        do {
            envelope = try decoder.decode(VarlinkIncomingErrorReply.self, from: data)
        } catch {
            throw VarlinkClientError(.protocolViolation, "the daemon sent a malformed reply")
        }
        if let name = envelope.error {
            throw VarlinkError(name: name, parameters: envelope.parameters ?? [:])
        }
        do {
            let reply = try decoder.decode(VarlinkIncomingReply<Reply>.self, from: data)
            let parameters = try reply.parameters ?? decoder.decode(Reply.self, from: Data("{}".utf8))
            return (parameters, reply.continues ?? false)
        } catch {
            throw VarlinkClientError(.protocolViolation, "the daemon's reply does not match the interface: \(error)")
        }
    }
}
