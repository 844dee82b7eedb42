import NIOCore

/// Hands replies to waiting commands in order, and fails them when the connection breaks or times out.
///
/// Lives on the channel's event loop only.
final class SMTPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = SMTPReply

    enum Failure: Error {
        case closed
        case timedOut
        case failed(any Error)
    }

    private var waiting = CircularBuffer<EventLoopPromise<SMTPReply>>()
    private var unclaimed = CircularBuffer<SMTPReply>()
    private var failure: Failure?
    private var timeoutTask: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    private let residue: SMTPReplyDecoder.Residue

    /// - Parameter residue: shared with the connection's ``SMTPReplyDecoder``.
    init(residue: SMTPReplyDecoder.Residue) {
        self.residue = residue
    }

    /// Bytes the server sent that no command has taken yet: whole replies not asked for, and what the decoder
    /// holds of an unfinished one (decoded lines counted as `NNN-text` plus CRLF). Must be zero when TLS starts (see ``SMTPConnection/startTLS(context:serverHostname:)``).
    var unclaimedInput: Int {
        unclaimed.reduce(0) { $0 + $1.lines.reduce(0) { $0 + $1.utf8.count + 6 } } + residue.bufferedBytes + residue.partialReplyBytes
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Waits for the next reply, closing the connection if none arrives within `timeout`.
    func expectReply(_ promise: EventLoopPromise<SMTPReply>, timeout: TimeAmount) {
        if let reply = unclaimed.popFirst() {
            promise.succeed(reply)
            return
        }
        if let failure {
            promise.fail(failure)
            return
        }
        guard context != nil else {
            promise.fail(Failure.closed)
            return
        }
        waiting.append(promise)
        scheduleTimeout(timeout)
    }

    private func scheduleTimeout(_ timeout: TimeAmount) {
        timeoutTask?.cancel()
        guard let context else { return }
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timeoutTask = context.eventLoop.scheduleTask(in: timeout) {
            let handler = loopBound.value
            guard !handler.waiting.isEmpty else { return }
            handler.fail(.timedOut)
            handler.context?.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        if let promise = waiting.popFirst() {
            if waiting.isEmpty { timeoutTask?.cancel() }
            promise.succeed(reply)
        } else {
            unclaimed.append(reply)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(.failed(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(.closed)
        context.fireChannelInactive()
    }

    private func fail(_ failure: Failure) {
        if self.failure == nil { self.failure = failure }
        timeoutTask?.cancel()
        while let promise = waiting.popFirst() { promise.fail(self.failure!) }
    }
}
