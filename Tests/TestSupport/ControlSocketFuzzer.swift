import ControlPlane

/// Sends hostile messages to a control socket from several connections at once and judges every answer.
///
/// Each connection starts with a GetInfo whose answer is known exactly, and one follows every seventh
/// message, so a server that keeps answering but answers wrongly is caught. Every 500th message is one
/// byte over `maximumMessageSize` and must get `MessageTooLarge`, then a close.
public struct ControlSocketFuzzer: Sendable {
    public var socketPath: String
    public var oracle: FuzzOracle
    public var maximumMessageSize: Int

    public init(socketPath: String, oracle: FuzzOracle, maximumMessageSize: Int) {
        self.socketPath = socketPath
        self.oracle = oracle
        self.maximumMessageSize = maximumMessageSize
    }

    /// Runs `workers` connections' worth of `perWorker` messages each; seeds are fixed, so a run repeats.
    public func run(workers: Int, perWorker: Int) async throws -> FuzzTally {
        try await withThrowingTaskGroup(of: FuzzTally.self) { group in
            for worker in 0..<workers {
                group.addTask { try await self.worker(worker, messages: perWorker) }
            }
            var total = FuzzTally()
            for try await part in group { total = total + part }
            return total
        }
    }

    private func worker(_ worker: Int, messages perWorker: Int) async throws -> FuzzTally {
        var rng = SplitMix64(state: UInt64(worker) &* 7919 &+ 1)
        var tally = FuzzTally()
        var index = 0
        while index < perWorker {
            // One connection until the server closes it; each starts with a valid call.
            try await VarlinkClient.withConnection(to: socketPath) { client in
                try await checkValidCall(client, &tally)
                while index < perWorker {
                    let oversized = index % 500 == 499
                    // Oversized: one byte over the limit, no terminator in sight.
                    let message = oversized
                        ? Array(repeating: UInt8(ascii: "a"), count: maximumMessageSize + 1)
                        : FuzzMessages.make(index, using: &rng).filter { $0 != 0 }
                    index += 1
                    tally.sent += 1
                    if oversized {
                        do {
                            try await client.sendRaw(message)
                            if let reply = try await client.receiveRaw() {
                                if String(decoding: reply, as: UTF8.self).contains("MessageTooLarge"), oracle.problem(reply: reply, to: []) == nil {
                                    tally.replies += 1
                                } else {
                                    tally.record("an oversized message got \(String(decoding: reply.prefix(200), as: UTF8.self))", message: [])
                                }
                                if try await client.receiveRaw() != nil { tally.record("the connection stayed open after MessageTooLarge", message: []) }
                            }
                        } catch {
                            // The server may close (and reset) before the client finished writing the message.
                        }
                        tally.closes += 1
                        return
                    }
                    try await client.sendRaw(message)
                    guard var reply = try await client.receiveRaw() else {
                        if oracle.mustAnswer(message) { tally.record("closed without answering a JSON object", message: message) }
                        tally.closes += 1
                        return
                    }
                    // A streaming answer: the last reply is the one without `continues`.
                    while String(decoding: reply, as: UTF8.self).contains("\"continues\":true"), let next = try await client.receiveRaw() {
                        reply = next
                    }
                    if let problem = oracle.problem(reply: reply, to: message) {
                        tally.record(problem, message: message)
                    } else {
                        tally.replies += 1
                    }
                    // Interleaved: a valid call on the same connection still gets its exact answer.
                    if index % 7 == 0 { try await checkValidCall(client, &tally) }
                }
            }
        }
        return tally
    }

    /// Sends the known valid call and checks its answer, on a connection the fuzz has been using.
    private func checkValidCall(_ client: VarlinkClient, _ tally: inout FuzzTally) async throws {
        try await client.sendRaw(FuzzOracle.getInfo)
        let reply = try await client.receiveRaw()
        if let reply, oracle.isGetInfoReply(reply) {
            tally.validCallsAnswered += 1
        } else {
            tally.record("a valid GetInfo got \(reply.map { String(decoding: $0.prefix(200), as: UTF8.self) } ?? "a closed connection")", message: FuzzOracle.getInfo)
        }
    }
}
