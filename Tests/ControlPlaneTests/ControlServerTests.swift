@testable import ControlPlane
import TestSupport
import Foundation
import Testing
import TenantSyncCore

@Suite("Control server over a real Unix socket", .serialized)
struct ControlServerTests {
    @Test("GetInfo names the service and both interfaces")
    func getInfo() async throws {
        try await ControlServerHarness.withServer { path, _ in
            let info = try await ControlClient.withConnection(to: path) { try await $0.info() }
            #expect(info.product == "tenantsyncd")
            #expect(info.version == "9.9.9")
            #expect(info.interfaces == ["org.varlink.service", "io.tenantsync.Control"])
        }
    }

    @Test("GetInterfaceDescription returns the IDL file of the repository byte for byte")
    func interfaceDescription() async throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/ControlPlane/io.tenantsync.Control.varlink").standardized
        let text = try String(contentsOf: file, encoding: .utf8)
        try await ControlServerHarness.withServer { path, _ in
            try await ControlClient.withConnection(to: path) { client in
                let value1 = try await client.interfaceDescription()
                #expect(value1 == text)
                let value2 = try await client.interfaceDescription("org.varlink.service").contains("method GetInfo()")
                #expect(value2)
                let error = await #expect(throws: VarlinkError.self) { try await client.interfaceDescription("com.example.Nope") }
                #expect(error == VarlinkError.interfaceNotFound("com.example.Nope"))
            }
        }
    }

    @Test("typed calls round-trip through the interface")
    func typedCalls() async throws {
        try await ControlServerHarness.withServer { path, _ in
            try await ControlClient.withConnection(to: path) { client in
                let status = try await client.status()
                #expect(status.accounts.tokenInvalid == 1)
                #expect(status.degraded.first?.service == .exchangeOnline)
                #expect(status.alertDelivery.first?.lastError == "connection refused")
                let detail = try await client.account(id: 7)
                #expect(detail.grants.first?.incident?.aadstsCode == 700082)
                #expect(detail.grants.first?.token?.consecutiveFailures == 1)
                #expect(detail.details["note"] == .string("test"))
                let accounts = try await client.listAccounts(ListAccountsRequest(tenant: "contoso.example")).accounts
                #expect(accounts.map(\.id) == [7, 8])
                let value3 = try await client.reload()
                #expect(value3 == ["smtp.host"])
            }
        }
    }

    @Test("domain errors become io.tenantsync.Control errors with actionable parameters")
    func domainErrors() async throws {
        try await ControlServerHarness.withServer { path, _ in
            try await ControlClient.withConnection(to: path) { client in
                let notFound = await #expect(throws: VarlinkError.self) { try await client.account(id: 42) }
                #expect(notFound?.name == "io.tenantsync.Control.AccountNotFound")
                #expect(notFound?.parameters["id"] == .int(42))
                let short = await #expect(throws: VarlinkError.self) { try await client.searchGroups(tenant: "t", prefix: "ab") }
                #expect(short?.name == "io.tenantsync.Control.GroupPrefixTooShort")
                #expect(short?.parameters["minimum"] == .int(3))
                #expect(short?.parameters["prefix"] == .string("ab"))
                let tooMany = await #expect(throws: VarlinkError.self) {
                    try await client.addTargets(AddTargetsRequest(tenant: "t", users: (0...100).map { "u\($0)@x" }, groups: []))
                }
                #expect(tooMany?.name == "io.tenantsync.Control.TooManyTargets")
                #expect(tooMany?.parameters["requested"] == .int(101))
                let selected = await #expect(throws: VarlinkError.self) { try await client.sync(SyncRequest(tenant: "selected.example")) }
                #expect(selected?.name == "io.tenantsync.Control.SyncNotAllowedForSelectedScope")
                let internalError = await #expect(throws: VarlinkError.self) { try await client.deprovision(id: 1) }
                #expect(internalError?.name == "io.tenantsync.Control.Internal")
                #expect(internalError?.message?.contains("InternalFailure") == false)
                let unimplemented = await #expect(throws: VarlinkError.self) { try await client.renew(RenewRequest(id: 7)) }
                #expect(unimplemented?.name == "org.varlink.service.MethodNotImplemented")
                // The connection survives every error reply.
                let value4 = try await client.status().version
                #expect(value4 == "9.9.9")
            }
        }
    }

    @Test("more: true streams every progress reply and ends with continues false")
    func streaming() async throws {
        try await ControlServerHarness.withServer { path, _ in
            try await ControlClient.withConnection(to: path) { client in
                var pages: [Int] = []
                let last = try await client.sync(SyncRequest(tenant: "contoso.example", service: .onedrive)) { pages.append($0.run.pages) }
                #expect(pages == [1, 2, 3])
                #expect(last.done)
                #expect(last.run.state == .succeeded)
                #expect(last.run.service == .onedrive)
                // Without more, the handler's updates go nowhere and only the final reply comes.
                let single = try await client.sync(SyncRequest(tenant: "contoso.example"))
                #expect(single.done)
            }
        }
    }

    @Test("oneway calls get no reply, and the next call is answered")
    func oneway() async throws {
        try await ControlServerHarness.withServer { path, _ in
            try await ControlClient.withConnection(to: path) { client in
                try await client.connection.callOneway("io.tenantsync.Control.Reload", parameters: VarlinkEmpty())
                try await client.connection.callOneway("io.tenantsync.Control.NoSuchMethod", parameters: VarlinkEmpty())
                let info = try await client.info()
                #expect(info.product == "tenantsyncd")
            }
        }
    }

    @Test("unknown interfaces, methods and wrong parameter types get org.varlink.service errors", arguments: [
        (#"{"method":"com.example.Foo.Bar"}"#, "org.varlink.service.InterfaceNotFound", "interface", "com.example.Foo"),
        (#"{"method":"io.tenantsync.Control.Explode"}"#, "org.varlink.service.MethodNotFound", "method", "io.tenantsync.Control.Explode"),
        (#"{"method":"io.tenantsync.Control.GetAccount","parameters":{"id":"seven"}}"#, "org.varlink.service.InvalidParameter", "parameter", "id"),
        (#"{"method":"io.tenantsync.Control.GetAccount"}"#, "org.varlink.service.InvalidParameter", "parameter", "id"),
        (#"{"method":"io.tenantsync.Control.Sync","parameters":{"tenant":"t","service":"myspace"}}"#, "org.varlink.service.InvalidParameter", "parameter", "service"),
        (#"{"method":"io.tenantsync.Control.Provision","parameters":{"service":"onedrive","tenant":"t","app":{"app_id":"a"}}}"#, "org.varlink.service.InvalidParameter", "parameter", "app"),
        (#"{"method":"io.tenantsync.Control.Provision","parameters":{"service":"onedrive","tenant":"t","app":{"app_id":"a","certificate":"c"}}}"#, "org.varlink.service.InvalidParameter", "parameter", "app"),
        (#"{"method":"io.tenantsync.Control.Provision","parameters":{"service":"onedrive","tenant":"t","app":{"app_id":"a","client_secret":"s","certificate":"c","private_key":"k"}}}"#, "org.varlink.service.InvalidParameter", "parameter", "app"),
        (#"{"method":"io.tenantsync.Control.GetAccount","parameters":[1]}"#, "org.varlink.service.InvalidParameter", "parameter", "parameters"),
        (#"{"method":42}"#, "org.varlink.service.InvalidParameter", "parameter", "method"),
        (#"{"parameters":{}}"#, "org.varlink.service.InvalidParameter", "parameter", "method"),
        (#"{"method":"io.tenantsync.Control.Status","more":"yes"}"#, "org.varlink.service.InvalidParameter", "parameter", "more"),
        (#"{"method":"NoDots"}"#, "org.varlink.service.InvalidParameter", "parameter", "method"),
    ])
    func standardErrors(message: String, error: String, key: String, value: String) async throws {
        try await ControlServerHarness.withServer { path, _ in
            try await VarlinkClient.withConnection(to: path) { client in
                try await client.sendRaw(Array(message.utf8))
                let reply = try #require(try await client.receiveRaw())
                let object = try #require(try JSONSerialization.jsonObject(with: Data(reply)) as? [String: Any])
                #expect(object["error"] as? String == error, "reply was \(String(decoding: reply, as: UTF8.self))")
                #expect((object["parameters"] as? [String: Any])?[key] as? String == value)
                let info: VarlinkServiceInfo = try await client.call("org.varlink.service.GetInfo", parameters: VarlinkEmpty())
                #expect(info.vendor == "tenantsync")
            }
        }
    }

    @Test("an oversized message gets MessageTooLarge and only that connection closes")
    func oversized() async throws {
        try await ControlServerHarness.withServer(configure: { $0.maximumMessageSize = 4096 }) { path, _ in
            try await ControlClient.withConnection(to: path) { bystander in
                try await VarlinkClient.withConnection(to: path) { client in
                    let huge = #"{"method":"io.tenantsync.Control.Status","parameters":{"x":""# + String(repeating: "a", count: 10_000) + #""}}"#
                    try await client.sendRaw(Array(huge.utf8))
                    let reply = try #require(try await client.receiveRaw())
                    #expect(String(decoding: reply, as: UTF8.self) == #"{"error":"io.tenantsync.Control.MessageTooLarge","parameters":{"limit":4096}}"#)
                    let value5 = try await client.receiveRaw()
                    #expect(value5 == nil)
                }
                let value6 = try await bystander.status().version
                #expect(value6 == "9.9.9")
            }
        }
    }

    @Test("the default limit is 1 MiB: a 1 MiB + 1 message is refused, a message just under it is parsed", .timeLimit(.minutes(1)))
    func defaultLimit() async throws {
        try await ControlServerHarness.withServer { path, _ in
            try await VarlinkClient.withConnection(to: path) { client in
                let prefix = #"{"method":"org.varlink.service.GetInfo","parameters":{"pad":""#
                let suffix = #""}}"#
                let fits = prefix + String(repeating: "p", count: (1 << 20) - prefix.utf8.count - suffix.utf8.count) + suffix
                #expect(fits.utf8.count == 1 << 20)
                try await client.sendRaw(Array(fits.utf8))
                let reply = try #require(try await client.receiveRaw())
                #expect(String(decoding: reply, as: UTF8.self).contains("tenantsyncd"))
                try await client.sendRaw(Array((fits + " ").utf8))
                let refused = try #require(try await client.receiveRaw())
                #expect(String(decoding: refused, as: UTF8.self).contains("MessageTooLarge"))
            }
        }
    }

    @Test("invalid JSON or UTF-8 closes that connection only", arguments: [
        Array("{not json".utf8), [0xFF, 0xFE, 0x7B], Array("[1,2,3]".utf8), Array("".utf8),
        Array(String(repeating: "[", count: 100_000).utf8),
    ])
    func malformed(bytes: [UInt8]) async throws {
        try await ControlServerHarness.withServer { path, _ in
            try await VarlinkClient.withConnection(to: path) { client in
                try await client.sendRaw(bytes)
                let value7 = try await client.receiveRaw()
                #expect(value7 == nil)
            }
            let info = try await ControlClient.withConnection(to: path) { try await $0.info() }
            #expect(info.product == "tenantsyncd")
        }
    }

    @Test("socket file is mode 0660 and removed on graceful shutdown")
    func socketFile() async throws {
        var socketPath = ""
        try await ControlServerHarness.withServer { path, _ in
            socketPath = path
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o660)
            #expect((attributes[.type] as? FileAttributeType) == .typeSocket)
        }
        #expect(!FileManager.default.fileExists(atPath: socketPath))
    }

    @Test("the socket gets the control group as group owner")
    func socketGroup() async throws {
        // Debian always has the `daemon` group; the test runs as root, whose primary group differs from it.
        try await ControlServerHarness.withServer(configure: { $0.controlGroup = "daemon" }) { path, _ in
            let gid = try #require(ControlAccessPolicy.groupID(named: "daemon"))
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.groupOwnerAccountID] as? NSNumber)?.uint32Value == gid)
        }
    }

    @Test("a stale socket file is replaced; a live socket or a regular file is refused")
    func staleSocket() async throws {
        try await ControlServerHarness.withServer { path, server in
            // Live: a second server on the same path refuses to start.
            let second = ControlServer(configuration: ControlServerConfiguration(listener: .path(path), info: VarlinkServiceInfo(version: "x")), handler: TestControlHandler(), logger: ControlServerHarness.logger)
            let error = await #expect(throws: ControlServerError.self) { try await second.run() }
            #expect(error?.code == .alreadyRunning)
            // The first still answers.
            let value8 = try await ControlClient.withConnection(to: path) { try await $0.info() }.product
            #expect(value8 == "tenantsyncd")
        }

        let directory = try ControlServerHarness.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let stale = directory + "/control"
        // A socket bound and closed without unlinking is what a crash leaves.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(stale.utf8)) }
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        #expect(bound == 0)
        close(fd)
        #expect(ControlSocketFile.probe(path: stale) == .stale)
        try ControlSocketFile.prepare(path: stale)
        #expect(!FileManager.default.fileExists(atPath: stale))

        let regular = directory + "/regular"
        FileManager.default.createFile(atPath: regular, contents: Data("keep me".utf8))
        let refused = #expect(throws: ControlServerError.self) { try ControlSocketFile.prepare(path: regular) }
        #expect(refused?.code == .socketUnavailable)
        #expect(FileManager.default.contents(atPath: regular) == Data("keep me".utf8))
    }

    @Test("connections beyond the limit are closed at accept; served ones keep working")
    func connectionLimit() async throws {
        try await ControlServerHarness.withServer(configure: { $0.maximumConnections = 2 }) { path, server in
            try await ControlClient.withConnection(to: path) { first in
                try await ControlClient.withConnection(to: path) { second in
                    _ = try await first.info()
                    _ = try await second.info()
                    #expect(server.openConnections == 2)
                    await #expect(throws: VarlinkClientError.self) {
                        try await ControlClient.withConnection(to: path) { try await $0.info() }
                    }
                    let value9 = try await first.status().version
                    #expect(value9 == "9.9.9")
                }
            }
        }
    }

    @Test("an idle connection is closed after the idle timeout")
    func idleTimeout() async throws {
        try await ControlServerHarness.withServer(configure: { $0.idleTimeout = .milliseconds(200) }) { path, _ in
            try await VarlinkClient.withConnection(to: path) { client in
                let info: VarlinkServiceInfo = try await client.call("org.varlink.service.GetInfo", parameters: VarlinkEmpty())
                #expect(info.product == "tenantsyncd")
                // The next read ends when the server closes the silent connection.
                let start = ContinuousClock.now
                let value10 = try await client.receiveRaw()
                #expect(value10 == nil)
                #expect(ContinuousClock.now - start < .seconds(10))
            }
        }
    }

    @Test("a streaming call outlasting the idle timeout sixty times over is not cut off")
    func idleDuringCall() async throws {
        /// Streams one page, then holds the call open until the test releases it.
        struct GatedSync: PartialControlHandler {
            let started: AsyncStream<Void>.Continuation
            let release: AsyncStream<Void>
            func sync(_ request: SyncRequest, context: ControlContext, updates: ControlUpdates<SyncProgress>) async throws -> SyncProgress {
                var run = SyncRun(id: 5, tenantID: "t", service: nil, trigger: .manual, mode: .delta, state: .running, startedAt: Date(), finishedAt: nil, pages: 1, counts: DirectoryChangeCounts(), error: nil)
                try await updates.send(SyncProgress(run: SyncRunInfo(run), done: false))
                started.yield()
                for await _ in release { break }
                run.pages = 2
                try await updates.send(SyncProgress(run: SyncRunInfo(run), done: false))
                run.state = .succeeded
                return SyncProgress(run: SyncRunInfo(run), done: true)
            }
        }
        // The idle timer runs on a manual clock: the test, not the machine's load, decides how much time passes.
        let clock = ManualClock()
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
        let handler = GatedSync(started: startedContinuation, release: release)
        try await ControlServerHarness.withServer(handler: handler, configure: { $0.idleTimeout = .seconds(1) }, clock: clock) { path, _ in
            try await withThrowingTaskGroup(of: [Int].self) { group in
                group.addTask {
                    try await ControlClient.withConnection(to: path) { client in
                        var pages: [Int] = []
                        let last = try await client.sync(SyncRequest(tenant: "contoso.example")) { pages.append($0.run.pages) }
                        return pages + [last.run.pages]
                    }
                }
                var iterator = started.makeAsyncIterator()
                _ = await iterator.next()
                // The call is running: sixty idle periods pass on the server's clock.
                for _ in 0..<60 { clock.advance(by: .seconds(1)) }
                releaseContinuation.yield()
                let pages = try await group.next()
                #expect(pages == [1, 2, 2], "the streamed call was cut off or lost replies")
            }
        }
    }

    @Test("a connection waiting for its first message is closed when the idle timeout passes on the server's clock, not before")
    func idleTimerOnTheInjectedClock() async throws {
        let clock = ManualClock()
        try await ControlServerHarness.withServer(configure: { $0.idleTimeout = .seconds(10) }, clock: clock) { path, server in
            try await VarlinkClient.withConnection(to: path) { client in
                // The connection's task waits for input: its idle timer sleeps on the clock.
                let armed = try await eventually(timeout: .seconds(10), "idle timer armed") { clock.sleeperCount == 1 }
                try #require(armed, "the idle timer was never armed")
                clock.advance(by: .seconds(9))
                #expect(clock.sleeperCount == 1, "the idle timer fired before the timeout")
                #expect(server.openConnections == 1)
                clock.advance(by: .seconds(1))
                let value = try await client.receiveRaw()
                #expect(value == nil, "the server did not close the idle connection")
            }
        }
    }

    @Test("graceful shutdown lets a running call finish and closes the listener")
    func gracefulDrain() async throws {
        struct SlowHandler: PartialControlHandler {
            let started: AsyncStream<Void>.Continuation
            func reload(context: ControlContext) async throws -> [String] {
                started.yield()
                try await Task.sleep(for: .milliseconds(300))
                return ["drained"]
            }
        }
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let directory = try ControlServerHarness.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/control"
        let server = ControlServer(configuration: ControlServerConfiguration(listener: .path(path), info: VarlinkServiceInfo(version: "1")), handler: SlowHandler(started: startedContinuation), logger: ControlServerHarness.logger)
        let group = ServiceGroupRunner(server: server)
        try await withThrowingTaskGroup(of: [String]?.self) { tasks in
            tasks.addTask { try await group.run(); return nil }
            try await server.waitUntilListening()
            tasks.addTask { try await ControlClient.withConnection(to: path) { try await $0.reload() } }
            // Shut down only once the call is running in the handler.
            var iterator = started.makeAsyncIterator()
            _ = await iterator.next()
            await group.shutdown()
            var results: [[String]] = []
            for try await result in tasks { if let result { results.append(result) } }
            #expect(results == [["drained"]])
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
