import NIOCore
import NIOSSL

/// One open SMTP connection: sends a command line, awaits the reply with a timeout.
struct SMTPConnection: Sendable {
    let channel: any Channel
    let server: String
    let timeout: TimeAmount
    /// Held here, not looked up: after a failed TLS handshake the pipeline is torn down, but the
    /// handler still knows why.
    private let handler: NIOLoopBound<SMTPReplyHandler>

    /// Wraps a connected channel whose pipeline holds an ``SMTPReplyHandler``.
    static func make(channel: any Channel, server: String, timeout: TimeAmount) async throws -> SMTPConnection {
        let handler = try await channel.eventLoop.submit {
            NIOLoopBound(try channel.pipeline.syncOperations.handler(type: SMTPReplyHandler.self), eventLoop: channel.eventLoop)
        }.get()
        return SMTPConnection(channel: channel, server: server, timeout: timeout, handler: handler)
    }

    private init(channel: any Channel, server: String, timeout: TimeAmount, handler: NIOLoopBound<SMTPReplyHandler>) {
        self.channel = channel
        self.server = server
        self.timeout = timeout
        self.handler = handler
    }

    /// Sends `line` (nil: send nothing, just read the next reply) and returns the reply.
    func exchange(_ line: String?, step: SMTPError.Step) async throws -> SMTPReply {
        let channel = self.channel
        let timeout = self.timeout
        let handler = self.handler
        let future = channel.eventLoop.flatSubmit { () -> EventLoopFuture<SMTPReply> in
            let promise = channel.eventLoop.makePromise(of: SMTPReply.self)
            handler.value.expectReply(promise, timeout: timeout)
            if let line {
                channel.writeAndFlush(ByteBuffer(string: line + "\r\n"), promise: nil)
            }
            return promise.futureResult
        }
        do {
            return try await future.get()
        } catch {
            throw mapError(error, step: step)
        }
    }

    /// Throws unless the reply has the expected code.
    func require(_ reply: SMTPReply, _ code: Int, step: SMTPError.Step) throws {
        guard reply.code == code else {
            throw SMTPError(step: step, server: server, replyCode: reply.code, detail: reply.lines.joined(separator: " "))
        }
    }

    /// Puts TLS in front of the connection after the server's `220` to STARTTLS.
    ///
    /// Refuses when the server sent anything after that `220` before TLS began: such bytes are not protected
    /// by TLS, and a man in the middle can place forged replies there that would be read as answers to the
    /// commands sent inside TLS (the STARTTLS response injection, CVE-2011-0411 and its kin). The check and
    /// the handler's insertion run in one event-loop turn, so no read can slip in between.
    func startTLS(context: NIOSSLContext, serverHostname: String?) async throws {
        let channel = self.channel
        let handler = self.handler
        let server = self.server
        do {
            try await channel.eventLoop.submit {
                let early = handler.value.unclaimedInput
                guard early == 0 else {
                    throw SMTPError(
                        step: .starttls, server: server,
                        detail: "the server sent \(early) bytes after its 220 reply to STARTTLS and before the TLS handshake; they may be injected (STARTTLS response injection), so the connection is dropped"
                    )
                }
                let tls = try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
                try channel.pipeline.syncOperations.addHandler(tls, position: .first)
            }.get()
        } catch let error as SMTPError {
            throw error
        } catch {
            throw SMTPError(step: .tlsHandshake, server: server, detail: "\(error)")
        }
    }

    func close() async throws {
        try await channel.close()
    }

    private func mapError(_ error: any Error, step: SMTPError.Step) -> SMTPError {
        if let error = error as? SMTPError { return error }
        guard let failure = error as? SMTPReplyHandler.Failure else {
            return SMTPError(step: step, server: server, detail: "\(error)")
        }
        switch failure {
        case .timedOut:
            return SMTPError(step: step, server: server, detail: "no reply within \(timeout.nanoseconds / 1_000_000_000) s")
        case .closed:
            return SMTPError(step: step, server: server, detail: "the server closed the connection")
        case .failed(let cause):
            let isTLS = cause is NIOSSLError || cause is BoringSSLError || cause is NIOSSLExtraError
            return SMTPError(step: isTLS ? .tlsHandshake : step, server: server, detail: "\(cause)")
        }
    }
}
