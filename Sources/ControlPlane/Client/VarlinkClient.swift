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
    private var inbound: NIOAsyncChannelInboundStream<VarlinkFrame>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    private init(inbound: NIOAsyncChannelInboundStream<VarlinkFrame>.AsyncIterator, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
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
        let channel: NIOAsyncChannel<VarlinkFrame, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: eventLoopGroup)
                .connect(unixDomainSocketPath: path) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHandler(ByteToMessageHandler(VarlinkFrameDecoder(maximumMessageSize: maximumMessageSize)))
                        try pipeline.addHandler(MessageToByteHandler(VarlinkFrameEncoder()))
                        return try NIOAsyncChannel<VarlinkFrame, ByteBuffer>(wrappingChannelSynchronously: channel)
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

    /// Sends raw bytes as one message (the NUL terminator is added); for protocol tests.
    public func sendRaw(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Reads the next raw message; `nil` when the server closed the connection.
    public func receiveRaw() async throws -> [UInt8]? {
        switch try await inbound.next() {
        case nil: return nil
        case .message(let buffer): return Array(buffer.readableBytesView)
        case .tooLarge(let limit): throw VarlinkClientError(.protocolViolation, "the daemon's reply exceeds \(limit) bytes")
        }
    }

    private func send<Parameters: Encodable>(_ call: VarlinkOutgoingCall<Parameters>) async throws {
        // The frame encoder in the pipeline adds the NUL terminator.
        let buffer = ByteBuffer(bytes: try VarlinkJSON.makeEncoder().encode(call))
        do {
            try await outbound.write(buffer)
        } catch {
            throw VarlinkClientError(.connectionClosed, "the daemon closed the connection")
        }
    }

    private func receive<Reply: Decodable>(_ type: Reply.Type) async throws -> (Reply, continues: Bool) {
        let next: VarlinkFrame?
        do {
            next = try await inbound.next()
        } catch let error as VarlinkFrameError {
            throw VarlinkClientError(.protocolViolation, "the daemon's reply is too large: \(error)")
        } catch {
            throw VarlinkClientError(.connectionClosed, "the connection to the daemon failed: \(error)")
        }
        let message: ByteBuffer
        switch next {
        case nil: throw VarlinkClientError(.connectionClosed, "the daemon closed the connection")
        case .tooLarge(let limit): throw VarlinkClientError(.protocolViolation, "the daemon's reply exceeds \(limit) bytes")
        case .message(let buffer): message = buffer
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
