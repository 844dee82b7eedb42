import NIOCore

/// Splits a Varlink byte stream into messages at each NUL byte.
///
/// A message longer than `maximumMessageSize` fails the stream with
/// ``VarlinkFrameError/messageTooLarge(limit:)`` as soon as the limit is
/// passed, so a peer cannot make the server buffer more than that.
struct VarlinkFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    let maximumMessageSize: Int
    /// Bytes of the current message already searched for the terminator.
    private var searched = 0

    init(maximumMessageSize: Int) {
        self.maximumMessageSize = maximumMessageSize
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        let start = view.index(view.startIndex, offsetBy: min(searched, view.count))
        guard let terminator = view[start...].firstIndex(of: 0) else {
            searched = view.count
            if view.count > maximumMessageSize {
                throw VarlinkFrameError.messageTooLarge(limit: maximumMessageSize)
            }
            return .needMoreData
        }
        let length = view.distance(from: view.startIndex, to: terminator)
        searched = 0
        if length > maximumMessageSize {
            throw VarlinkFrameError.messageTooLarge(limit: maximumMessageSize)
        }
        let message = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(Self.wrapInboundOut(message))
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
