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

@Suite("Fuzzing the control socket", .serialized)
struct FuzzTests {
    @Test("10,000+ malformed, truncated, oversized and wrongly typed messages leave the server answering", .timeLimit(.minutes(3)))
    func fuzz() async throws {
        try await ControlServerHarness.withServer(configure: { $0.maximumMessageSize = 1 << 20 }) { path, server in
            let workers = 4
            let perWorker = 2_600
            let counts = try await withThrowingTaskGroup(of: (sent: Int, replies: Int, closes: Int).self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        var rng = SplitMix64(state: UInt64(worker) &* 7919 &+ 1)
                        var sent = 0, replies = 0, closes = 0
                        var index = 0
                        while index < perWorker {
                            // One connection until the server closes it.
                            try await VarlinkClient.withConnection(to: path) { client in
                                while index < perWorker {
                                    var message = FuzzMessages.make(index, using: &rng)
                                    if index % 500 == 499 {
                                        // Oversized: one byte over the limit, no terminator in sight.
                                        message = Array(repeating: UInt8(ascii: "a"), count: (1 << 20) + 1)
                                    }
                                    let oversized = index % 500 == 499
                                    index += 1
                                    sent += 1
                                    do {
                                        try await client.sendRaw(message.filter { $0 != 0 })
                                        guard let reply = try await client.receiveRaw() else {
                                            closes += 1
                                            return
                                        }
                                        replies += 1
                                        if oversized {
                                            // MessageTooLarge is followed by a close.
                                            #expect(String(decoding: reply, as: UTF8.self).contains("MessageTooLarge"))
                                            _ = try? await client.receiveRaw()
                                            return
                                        }
                                    } catch where oversized {
                                        // The server may close (and reset) before the client finished writing 1 MiB.
                                        closes += 1
                                        return
                                    }
                                }
                            }
                        }
                        return (sent, replies, closes)
                    }
                }
                var total = (sent: 0, replies: 0, closes: 0)
                for try await count in group {
                    total.sent += count.sent
                    total.replies += count.replies
                    total.closes += count.closes
                }
                return total
            }
            #expect(counts.sent >= 10_000)
            #expect(counts.replies + counts.closes == counts.sent, "every message got a reply or closed its connection")
            #expect(counts.replies > 1_000, "wrongly typed calls must get error replies, not closes")

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
            print("fuzz: \(counts.sent) messages, \(counts.replies) error replies, \(counts.closes) closed connections; GetInfo after fuzz median \(median), max \(latencies.last!)")
            #expect(median < .milliseconds(100), "GetInfo after the fuzz run took \(median) (median)")
            // Closed connections are all released.
            var open = server.openConnections
            for _ in 0..<50 where open > 0 {
                try await Task.sleep(for: .milliseconds(20))
                open = server.openConnections
            }
            #expect(open == 0)
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
