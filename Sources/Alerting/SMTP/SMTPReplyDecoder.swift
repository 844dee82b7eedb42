import NIOCore

/// Splits the server's byte stream into replies (`250-first`, `250-more`, `250 last`).
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    /// Replies longer than this are refused: a server that floods is not an SMTP server.
    static let maximumLineLength = 4096
    static let maximumLines = 100

    private var pending: [String] = []
    private var pendingCode: Int?
    /// What this decoder holds but has not handed on, for the STARTTLS check.
    let residue: Residue

    init(residue: Residue = Residue()) {
        self.residue = residue
    }

    /// Bytes received from the server that are not yet a whole reply: a partial line or the first lines of a
    /// multi-line reply. Read by ``SMTPReplyHandler`` when TLS is about to start.
    // @unchecked: touched only on the channel's event loop (the decoder's and the handler's callbacks).
    final class Residue: @unchecked Sendable {
        var bufferedBytes = 0
        var partialReplyBytes = 0
    }

    struct MalformedReply: Error, CustomStringConvertible {
        var line: String
        var description: String { "malformed reply line: \(line.prefix(80))" }
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        defer {
            residue.bufferedBytes = buffer.readableBytes
            residue.partialReplyBytes = pending.reduce(0) { $0 + $1.utf8.count + 6 }
        }
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > Self.maximumLineLength { throw MalformedReply(line: "line too long") }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        var line = buffer.readString(length: length) ?? ""
        buffer.moveReaderIndex(forwardBy: 1)
        if line.hasSuffix("\r") { line.removeLast() }
        let utf8 = Array(line.utf8)
        guard utf8.count >= 3, let code = Int(String(decoding: utf8[0..<3], as: UTF8.self)), (200...599).contains(code),
              utf8.count == 3 || utf8[3] == UInt8(ascii: " ") || utf8[3] == UInt8(ascii: "-")
        else { throw MalformedReply(line: line) }
        if let pendingCode, pendingCode != code { throw MalformedReply(line: line) }
        let text = utf8.count > 4 ? String(decoding: utf8[4...], as: UTF8.self) : ""
        pending.append(text)
        pendingCode = code
        if pending.count > Self.maximumLines { throw MalformedReply(line: "too many lines") }
        if utf8.count == 3 || utf8[3] == UInt8(ascii: " ") {
            let reply = SMTPReply(code: code, lines: pending)
            pending = []
            pendingCode = nil
            context.fireChannelRead(wrapInboundOut(reply))
        }
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
