import NIOCore
import NIOSSL

/// One open SMTP connection: sends a command line, awaits the reply with a timeout.
struct SMTPConnection: Sendable {
    let channel: any Channel
    let server: String
    let timeout: TimeAmount

    /// Sends `line` (nil: send nothing, just read the next reply) and returns the reply.
    func exchange(_ line: String?, step: SMTPError.Step) async throws -> SMTPReply {
        let channel = self.channel
        let timeout = self.timeout
        let future = channel.eventLoop.flatSubmit { () -> EventLoopFuture<SMTPReply> in
            let promise = channel.eventLoop.makePromise(of: SMTPReply.self)
            do {
                let handler = try channel.pipeline.syncOperations.handler(type: SMTPReplyHandler.self)
                handler.expectReply(promise, timeout: timeout)
                if let line {
                    channel.writeAndFlush(ByteBuffer(string: line + "\r\n"), promise: nil)
                }
            } catch {
                promise.fail(error)
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
    func startTLS(context: NIOSSLContext, serverHostname: String?) async throws {
        let channel = self.channel
        do {
            try await channel.eventLoop.submit {
                let handler = try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
                try channel.pipeline.syncOperations.addHandler(handler, position: .first)
            }.get()
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
