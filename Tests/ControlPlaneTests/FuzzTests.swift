@testable import ControlPlane
import Foundation
import Testing
import TestSupport

enum FuzzMessages {
    static let methods = [
        "io.tenantsync.Control.Status", "io.tenantsync.Control.GetAccount", "io.tenantsync.Control.ListAccounts",
        "io.tenantsync.Control.Sync", "io.tenantsync.Control.Provision", "io.tenantsync.Control.AddTargets",
        "io.tenantsync.Control.SearchGroups", "io.tenantsync.Control.AcknowledgeAlert", "org.varlink.service.GetInfo",
        "org.varlink.service.GetInterfaceDescription", "io.tenantsync.Control.Nope", "no.such.Interface.Call", "", ".", "x.",
    ]
    static let values = [
        "null", "true", "false", "0", "-1", "9223372036854775808", "1e308", "-0.5", "\"\"", "\"contoso.example\"",
        "\"exchange-online\"", "\"Sal\"", "[]", "[1,\"a\",null]", "{}", "{\"scope\":\"all\"}", "\"\\u0000\"", "\"\\ud800\"",
        "{\"app_id\":1,\"client_secret\":[]}", "[[[[[[]]]]]]",
    ]
    static let keys = ["id", "tenant", "service", "prefix", "users", "groups", "interface", "app", "scope", "consent_flow", "licensing_model", "all", "limit"]

    /// One hostile message (without its NUL terminator, which the caller adds).
    static func make(_ index: Int, using rng: inout SplitMix64) -> [UInt8] {
        switch index % 8 {
        case 0: // random bytes
            return (0..<Int.random(in: 0...200, using: &rng)).map { _ in UInt8.random(in: 1...255, using: &rng) }
        case 1: // truncated valid call
            let call = Array(validCall(using: &rng).utf8)
            return Array(call.prefix(Int.random(in: 0..<max(call.count, 1), using: &rng)))
        case 2, 3: // wrongly typed parameters
            return Array(validCall(using: &rng).utf8)
        case 4: // envelope fields of the wrong type
            let field = ["method", "more", "oneway", "upgrade", "parameters"].randomElement(using: &rng)!
            // `oneway: true` is a valid call that gets no reply; everything else gets one.
            let value = values.filter { field != "oneway" || $0 != "true" }.randomElement(using: &rng)!
            return Array("{\"method\":\"io.tenantsync.Control.Status\",\"\(field)\":\(value)}".utf8)
        case 5: // deep nesting
            let depth = Int.random(in: 50...5000, using: &rng)
            return Array(("{\"method\":\"org.varlink.service.GetInfo\",\"parameters\":{\"x\":" + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}}").utf8)
        case 6: // invalid UTF-8 inside a string
            var bytes = Array("{\"method\":\"io.tenantsync.Control.GetAccount\",\"parameters\":{\"tenant\":\"".utf8)
            bytes += [0xC3, 0x28, 0xFF, 0xED, 0xA0, 0x80]
            bytes += Array("\"}}".utf8)
            return bytes
        default: // JSON that is not an object, or an object that is not a call
            return Array(["[]", "42", "\"call\"", "null", "{}", "{\"method\":null}", "{\"more\":true}"].randomElement(using: &rng)!.utf8)
        }
    }

    static func validCall(using rng: inout SplitMix64) -> String {
        let method = methods.randomElement(using: &rng)!
        var parameters: [String] = []
        for _ in 0..<Int.random(in: 0...4, using: &rng) {
            parameters.append("\"\(keys.randomElement(using: &rng)!)\":\(values.randomElement(using: &rng)!)")
        }
        return "{\"method\":\"\(method)\",\"parameters\":{\(parameters.joined(separator: ","))}}"
    }
}

/// What one fuzzing worker saw.
struct FuzzTally: Sendable {
    var sent = 0
    /// Replies judged valid for their message (errors and the odd valid call).
    var replies = 0
    /// Connections the server closed instead of answering (allowed only for non-objects).
    var closes = 0
    /// Interleaved GetInfo calls answered exactly.
    var validCallsAnswered = 0
    /// Everything that was wrong, with the message that caused it.
    var problems: [String] = []

    mutating func record(_ problem: String, message: [UInt8]) {
        if problems.count < 20 { problems.append("\(problem) (message: \(String(decoding: message.prefix(120), as: UTF8.self)))") }
    }

    /// Sends the known valid call and checks its answer, on a connection the fuzz has been using.
    mutating func checkValidCall(_ client: VarlinkClient) async throws {
        try await client.sendRaw(FuzzOracle.getInfo)
        let reply = try await client.receiveRaw()
        if let reply, FuzzOracle.isGetInfoReply(reply) {
            validCallsAnswered += 1
        } else {
            record("a valid GetInfo got \(reply.map { String(decoding: $0.prefix(200), as: UTF8.self) } ?? "a closed connection")", message: FuzzOracle.getInfo)
        }
    }

    static func + (lhs: FuzzTally, rhs: FuzzTally) -> FuzzTally {
        FuzzTally(
            sent: lhs.sent + rhs.sent, replies: lhs.replies + rhs.replies, closes: lhs.closes + rhs.closes,
            validCallsAnswered: lhs.validCallsAnswered + rhs.validCallsAnswered, problems: lhs.problems + rhs.problems
        )
    }
}

@Suite("Fuzzing the control socket", .serialized)
struct FuzzTests {
    @Test("10,000+ malformed, truncated, oversized and wrongly typed messages get valid Varlink errors, valid calls keep their answers, resources stay bounded", .timeLimit(.minutes(3)))
    func fuzz() async throws {
        try await ControlServerHarness.withServer(configure: { $0.maximumMessageSize = 1 << 20 }) { path, server in
            // Warm up first, so that the client's event loops and first buffers are in the baseline.
            try await ControlClient.withConnection(to: path) { client in _ = try await client.info() }
            let baseline = try ProcessResources.current()

            let workers = 4
            let perWorker = 2_600
            let tally = try await withThrowingTaskGroup(of: FuzzTally.self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        var rng = SplitMix64(state: UInt64(worker) &* 7919 &+ 1)
                        var tally = FuzzTally()
                        var index = 0
                        while index < perWorker {
                            // One connection until the server closes it; each starts with a valid call.
                            try await VarlinkClient.withConnection(to: path) { client in
                                try await tally.checkValidCall(client)
                                while index < perWorker {
                                    let oversized = index % 500 == 499
                                    // Oversized: one byte over the limit, no terminator in sight.
                                    let message = oversized
                                        ? Array(repeating: UInt8(ascii: "a"), count: (1 << 20) + 1)
                                        : FuzzMessages.make(index, using: &rng).filter { $0 != 0 }
                                    index += 1
                                    tally.sent += 1
                                    if oversized {
                                        do {
                                            try await client.sendRaw(message)
                                            if let reply = try await client.receiveRaw() {
                                                if String(decoding: reply, as: UTF8.self).contains("MessageTooLarge"), FuzzOracle.problem(reply: reply, to: []) == nil {
                                                    tally.replies += 1
                                                } else {
                                                    tally.record("an oversized message got \(String(decoding: reply.prefix(200), as: UTF8.self))", message: [])
                                                }
                                                if try await client.receiveRaw() != nil { tally.record("the connection stayed open after MessageTooLarge", message: []) }
                                            }
                                        } catch {
                                            // The server may close (and reset) before the client finished writing 1 MiB.
                                        }
                                        tally.closes += 1
                                        return
                                    }
                                    try await client.sendRaw(message)
                                    guard var reply = try await client.receiveRaw() else {
                                        if FuzzOracle.mustAnswer(message) { tally.record("closed without answering a JSON object", message: message) }
                                        tally.closes += 1
                                        return
                                    }
                                    // A streaming answer: the last reply is the one without `continues`.
                                    while String(decoding: reply, as: UTF8.self).contains("\"continues\":true"), let next = try await client.receiveRaw() {
                                        reply = next
                                    }
                                    if let problem = FuzzOracle.problem(reply: reply, to: message) {
                                        tally.record(problem, message: message)
                                    } else {
                                        tally.replies += 1
                                    }
                                    // Interleaved: a valid call on the same connection still gets its exact answer.
                                    if index % 7 == 0 { try await tally.checkValidCall(client) }
                                }
                            }
                        }
                        return tally
                    }
                }
                var total = FuzzTally()
                for try await part in group { total = total + part }
                return total
            }
            print("fuzz: \(tally.sent) messages, \(tally.replies) valid answers, \(tally.closes) closed connections, \(tally.validCallsAnswered) interleaved GetInfo answered")
            #expect(tally.problems.isEmpty, "wrong answers:\n\(tally.problems.joined(separator: "\n"))")
            #expect(tally.sent == workers * perWorker)
            #expect(tally.replies > 3_000, "JSON-object messages must get error replies, not closes: \(tally.replies) of \(tally.sent)")
            #expect(tally.validCallsAnswered >= tally.sent / 7, "interleaved valid calls answered: \(tally.validCallsAnswered)")

            // Normal calls still answer promptly.
            var latencies: [Duration] = []
            try await ControlClient.withConnection(to: path) { client in
                for _ in 0..<21 {
                    let start = ContinuousClock.now
                    let info = try await client.info()
                    latencies.append(ContinuousClock.now - start)
                    #expect(info.product == "tenantsyncd")
                }
                let status = try await client.status()
                #expect(status.version == "9.9.9")
            }
            latencies.sort()
            let median = latencies[latencies.count / 2]
            #expect(median < .milliseconds(100), "GetInfo after the fuzz run took \(median) (median)")

            // Every closed connection is released: no connection, descriptor or buffer is left behind.
            let released = try await eventually(timeout: .seconds(10), "connections released") { server.openConnections == 0 }
            #expect(released, "\(server.openConnections) connections still open after the run")
            let after = try ProcessResources.current()
            print("fuzz: before \(baseline), after \(after)")
            #expect(after.openDescriptors <= baseline.openDescriptors + 2, "descriptors leaked: before \(baseline), after \(after)")
            #expect(after.residentKiB - baseline.residentKiB < 96 * 1024, "resident memory grew by \((after.residentKiB - baseline.residentKiB) / 1024) MiB")
        }
    }

    @Test("a normal client is served while another floods the server")
    func servedDuringFlood() async throws {
        try await ControlServerHarness.withServer { path, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    var rng = SplitMix64(state: 42)
                    for index in 0..<3_000 {
                        try await VarlinkClient.withConnection(to: path) { client in
                            try await client.sendRaw(FuzzMessages.make(index, using: &rng).filter { $0 != 0 })
                            _ = try await client.receiveRaw()
                        }
                    }
                }
                var slowest = Duration.zero
                try await ControlClient.withConnection(to: path) { client in
                    for _ in 0..<200 {
                        let start = ContinuousClock.now
                        _ = try await client.status()
                        slowest = max(slowest, ContinuousClock.now - start)
                    }
                }
                print("flood: slowest Status during flood \(slowest)")
                #expect(slowest < .seconds(2), "a normal call waited \(slowest) while another client flooded")
                try await group.waitForAll()
            }
        }
    }
}
