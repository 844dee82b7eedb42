import NIOCore

/// One NUL-terminated message, or the notice that one was too large.
enum VarlinkFrame: Sendable {
    case message(ByteBuffer)
    /// A message passed the size limit; its bytes were dropped up to its terminator.
    case tooLarge(limit: Int)
}

/// Splits a Varlink byte stream into messages at each NUL byte.
///
/// A message longer than `maximumMessageSize` is not buffered: its bytes are
/// dropped up to its terminator and a ``VarlinkFrame/tooLarge(limit:)`` frame
/// takes its place, so the peer has finished writing when it is answered. A
/// peer that keeps sending without a terminator fails the stream with
/// ``VarlinkFrameError/messageTooLarge(limit:)`` after 16 times the limit.
struct VarlinkFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = VarlinkFrame

    let maximumMessageSize: Int
    /// Bytes of the current message already searched for the terminator.
    private var searched = 0
    /// Bytes dropped of an oversized message, while dropping.
    private var dropped: Int?

    init(maximumMessageSize: Int) {
        self.maximumMessageSize = maximumMessageSize
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        if let alreadyDropped = dropped {
            guard let terminator = view.firstIndex(of: 0) else {
                dropped = alreadyDropped + view.count
                buffer.moveReaderIndex(forwardBy: view.count)
                if dropped! > maximumMessageSize * 16 {
                    throw VarlinkFrameError.messageTooLarge(limit: maximumMessageSize)
                }
                return .needMoreData
            }
            buffer.moveReaderIndex(forwardBy: view.distance(from: view.startIndex, to: terminator) + 1)
            dropped = nil
            context.fireChannelRead(Self.wrapInboundOut(.tooLarge(limit: maximumMessageSize)))
            return .continue
        }
        let start = view.index(view.startIndex, offsetBy: min(searched, view.count))
        guard let terminator = view[start...].firstIndex(of: 0) else {
            if view.count > maximumMessageSize {
                // Start dropping: keep no more than the limit in memory.
                searched = 0
                dropped = view.count
                buffer.moveReaderIndex(forwardBy: view.count)
                return .continue
            }
            searched = view.count
            return .needMoreData
        }
        let length = view.distance(from: view.startIndex, to: terminator)
        searched = 0
        if length > maximumMessageSize {
            buffer.moveReaderIndex(forwardBy: length + 1)
            context.fireChannelRead(Self.wrapInboundOut(.tooLarge(limit: maximumMessageSize)))
            return .continue
        }
        let message = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(Self.wrapInboundOut(.message(message)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        // A message without its terminator at the end of the stream is dropped: it was never complete.
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .needMoreData
    }
}

/// Why a Varlink byte stream could not be split into messages.
enum VarlinkFrameError: Error, Equatable {
    case messageTooLarge(limit: Int)
}

/// Writes each outbound message followed by its NUL terminator.
struct VarlinkFrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = ByteBuffer

    func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        var data = data
        out.writeBuffer(&data)
        out.writeInteger(UInt8(0))
    }
}
