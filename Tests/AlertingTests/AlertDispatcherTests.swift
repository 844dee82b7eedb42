import Alerting
import Foundation
import Logging
import ServiceLifecycle
import Systemd
import TenantSyncCore
import TenantSyncStore
import Testing
import TestSupport

/// The durable outbox end to end: SQLite store, real SMTP server, real hook processes.
@Suite(.serialized)
struct AlertDispatcherTests {
    static let fastBackoff = BackoffPolicy(initial: .milliseconds(150), maximum: .milliseconds(600), multiplier: 2, jitter: 0.2)

    /// Runs `body` while the service runs in a ServiceGroup, then shuts the group down gracefully.
    func running<T: Sendable>(_ service: some Service, _ body: () async throws -> T) async throws -> T {
        let group = ServiceGroup(services: [service], logger: Logger(label: "test.group"))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                let result = try await body()
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }

    @Test func newAlertWakesAnIdleDispatcherAtOnce() async throws {
        let directory = try TestAlerts.temporaryDirectory()
        let store = try TestAlerts.makeStore(directory: directory)
        let output = directory + "/hook.json"
        let hook = HookAlertChannel(command: HookCommand(name: "copy", arguments: [HookRunnerTests.script, output, "ok"]))
        // A clock that never moves: a delivery can then only come from the signal, not from a timer.
        let clock = ManualClock()
        let dispatcher = AlertDispatcher(
            store: store, channels: [hook], configuration: .init(backoff: Self.fastBackoff), clock: clock, logger: Logger(label: "test")
        )
        let raiser = AlertRaiser(store: store, channels: [hook], signal: dispatcher.signal)

        try await running(dispatcher) {
            let idle = try await eventually("dispatcher parked on the signal") { dispatcher.signal.hasWaiter }
            #expect(idle, "with an empty outbox the dispatcher must park on the signal")
            #expect(clock.sleeperCount == 0, "with nothing due the dispatcher must not arm a timer")
            let alert = try await raiser.raise(TestAlerts.tokenInvalid())
            let delivered = try await eventually(timeout: .seconds(5), "delivered after the signal") {
                try await store.deliveries(alertID: alert.id).first?.state == .delivered
            }
            #expect(delivered, "the signal must wake the dispatcher")
            #expect(FileManager.default.fileExists(atPath: output))
        }
    }

    @Test("An idle dispatcher returns at graceful shutdown: its wait ends on the shutdown, not on a timer", .timeLimit(.minutes(1)))
    func idleDispatcherStopsAtGracefulShutdown() async throws {
        let directory = try TestAlerts.temporaryDirectory()
        let store = try TestAlerts.makeStore(directory: directory)
        // A clock that never moves: only the shutdown can end the wait.
        let clock = ManualClock()
        let dispatcher = AlertDispatcher(store: store, channels: [any AlertChannel](), clock: clock, logger: Logger(label: "test"))
        try await running(dispatcher) {
            let idle = try await eventually("dispatcher parked on the signal") { dispatcher.signal.hasWaiter }
            #expect(idle, "with an empty outbox the dispatcher must park on the signal")
            #expect(clock.sleeperCount == 0, "nothing is due: no timer, and no long sleep standing in for the shutdown")
        }
    }

    @Test("a reload's channels: a removed channel's pending deliveries are dropped, a changed one's are due at once and go to the new command, an added one gets only new alerts")
    func reconfiguredChannels() async throws {
        let directory = try TestAlerts.temporaryDirectory()
        let store = try TestAlerts.makeStore(directory: directory)
        // Both hooks fail at first: their deliveries stay pending, backed off by a minute.
        let slowBackoff = BackoffPolicy(initial: .seconds(60), maximum: .seconds(60), multiplier: 2, jitter: 0)
        func hook(_ name: String, _ behaviour: String) -> HookAlertChannel {
            HookAlertChannel(command: HookCommand(name: name, arguments: [HookRunnerTests.script, directory + "/\(name)-\(behaviour).json", behaviour]))
        }
        let dispatcher = AlertDispatcher(
            store: store, channels: [hook("gone", "fail"), hook("fixed", "fail")], configuration: .init(backoff: slowBackoff), logger: Logger(label: "test")
        )
        let old = try await store.enqueueAlert(TestAlerts.tokenInvalid(), channels: dispatcher.channels.names, at: Date())
        try await dispatcher.deliverDueRound()
        #expect(try await store.deliveries(alertID: old.id).allSatisfy { $0.state == .pending && $0.attempts == 1 })
        #expect(try await store.dueDeliveries(at: Date(), limit: 10).isEmpty, "both are backed off")
        #expect(Set(dispatcher.health.failingChannels.keys) == ["hook:gone", "hook:fixed"])

        // The reload: `gone` removed, `fixed` now succeeds, `new` added.
        let change = try await dispatcher.reconfigure(channels: [hook("fixed", "ok"), hook("new", "ok")], changed: ["hook:fixed"])
        #expect(change.added == ["hook:new"] && change.removed == ["hook:gone"], "\(change)")
        #expect(dispatcher.channels.names == ["hook:fixed", "hook:new"])
        #expect(dispatcher.health.failingChannels.isEmpty, "the removed and the changed channel are no longer reported failing")
        let deliveries = try await store.deliveries(alertID: old.id)
        #expect(deliveries.map(\.channel) == ["hook:fixed"], "the removed channel's pending delivery is dropped, none is added for the new one")
        try await dispatcher.deliverDueRound()
        #expect(try await store.deliveries(alertID: old.id).first?.state == .delivered, "the changed channel's backlog was due at once")
        #expect(FileManager.default.fileExists(atPath: directory + "/fixed-ok.json"), "the backlog went to the new command")
        #expect(!FileManager.default.fileExists(atPath: directory + "/new-ok.json"), "the added channel got an old alert")

        // A straggler queued for the removed channel (a producer that read the names just before the reload) is dropped.
        let straggler = try await store.enqueueAlert(TestAlerts.tokenInvalid(), channels: ["hook:gone", "hook:new"], at: Date())
        try await dispatcher.deliverDueRound()
        #expect(try await store.deliveries(alertID: straggler.id).map(\.channel) == ["hook:new"])
        #expect(FileManager.default.fileExists(atPath: directory + "/new-ok.json"))
    }

    @Test("a hook filtered by `events` runs only for those kinds; its delivery of another kind is dropped, not left pending")
    func hookEventsFilterTheKinds() async throws {
        let directory = try TestAlerts.temporaryDirectory()
        let store = try TestAlerts.makeStore(directory: directory)
        let onlyProtected = HookAlertChannel(command: HookCommand(
            name: "protected", arguments: [HookRunnerTests.script, directory + "/protected.json", "ok"], kinds: ["account-protected"]
        ))
        let every = HookAlertChannel(command: HookCommand(name: "every", arguments: [HookRunnerTests.script, directory + "/every.json", "ok"]))
        let dispatcher = AlertDispatcher(store: store, channels: [onlyProtected, every], logger: Logger(label: "test"))
        // Producers queue every alert for every channel name in force.
        let invalid = try await store.enqueueAlert(TestAlerts.tokenInvalid(), channels: dispatcher.channels.names, at: Date())
        try await dispatcher.deliverDueRound()
        let deliveries = try await store.deliveries(alertID: invalid.id)
        #expect(deliveries.map(\.channel) == ["hook:every"] && deliveries.allSatisfy { $0.state == .delivered }, "\(deliveries)")
        #expect(!FileManager.default.fileExists(atPath: directory + "/protected.json"), "the hook ran for a kind outside its events")
        #expect(FileManager.default.fileExists(atPath: directory + "/every.json"))
        #expect(try await store.dueDeliveries(at: .distantFuture, limit: 10).isEmpty, "a filtered delivery stayed pending")

        var protected = TestAlerts.tokenInvalid()
        protected.kind = "account-protected"
        let wanted = try await store.enqueueAlert(protected, channels: dispatcher.channels.names, at: Date())
        try await dispatcher.deliverDueRound()
        #expect(try await store.deliveries(alertID: wanted.id).filter { $0.state == .delivered }.map(\.channel).sorted() == ["hook:every", "hook:protected"])
        #expect(FileManager.default.fileExists(atPath: directory + "/protected.json"), "the hook did not run for its own kind")
    }

    @Test func smtpOutageAndDaemonRestartLoseNothing() async throws {
        let directory = try TestAlerts.temporaryDirectory()
        let server = try await SMTPServer.make(mode: .starttls)
        let smtpConfig = SMTPConfiguration(
            host: "127.0.0.1", port: server.port, security: .starttls, username: SMTPServer.username, password: Secret(SMTPServer.password),
            from: "tenantsync@example.org", to: ["admin@example.org"], caFile: server.certificatePath, commandTimeout: .seconds(5)
        )
        let capture = LogCapture()
        func channels() -> [any AlertChannel] {
            [
                SMTPAlertChannel(client: SMTPClient(configuration: smtpConfig, logger: Logger(label: "test.smtp")),
                                 composer: AlertMailComposer(from: smtpConfig.from, recipients: smtpConfig.to)),
                HookAlertChannel(command: HookCommand(name: "copy", arguments: [HookRunnerTests.script, directory + "/hook.json", "ok"])),
            ]
        }

        // First daemon life: the mail server is down.
        var raised: [Int64] = []
        do {
            let store = try TestAlerts.makeStore(directory: directory)
            let dispatcher = AlertDispatcher(store: store, channels: channels(), configuration: .init(backoff: Self.fastBackoff), logger: capture.logger())
            let raiser = AlertRaiser(store: store, channels: channels(), signal: dispatcher.signal)
            try await running(dispatcher) {
                for index in 0..<3 {
                    raised.append(try await raiser.raise(TestAlerts.tokenInvalid(tenant: "tenant\(index).example", accountID: Int64(index + 1))).id)
                }
                let retried = try await eventually(timeout: .seconds(10), "smtp retried twice") {
                    let smtp = try await raised.asyncMap { try await store.deliveries(alertID: $0).first { $0.channel == "smtp" } }
                    return smtp.allSatisfy { $0?.state == .pending && ($0?.attempts ?? 0) >= 2 }
                }
                #expect(retried, "smtp deliveries must be retried with backoff while the server is down")
                let hooks = try await raised.asyncMap { try await store.deliveries(alertID: $0).first { $0.channel == "hook:copy" }?.state }
                #expect(hooks.allSatisfy { $0 == .delivered }, "a healthy channel keeps delivering while another fails")
                let health = dispatcher.health
                #expect(health.failingChannels.keys.sorted() == ["smtp"])
                #expect(health.statusClause == "alert delivery failing: smtp")
                #expect(health.failingChannels["smtp"]?.lastError.contains("failed at connect") == true)
                let lastError = try await store.deliveries(alertID: raised[0]).first { $0.channel == "smtp" }?.lastError
                #expect(lastError?.contains("failed at connect") == true)
            }
            let failures = capture.all.filter { $0.message == "Alert delivery failed" }
            #expect(!failures.isEmpty)
            #expect(failures.allSatisfy { $0.metadata["message.id"] == MessageID.alertDeliveryFailing.rawValue && $0.metadata["alert.channel"] == "smtp" })
            #expect(!capture.all.contains { $0.metadata.values.contains { $0.contains(SMTPServer.password) } }, "the password must never be logged")
        }

        // Between lives: another alert is stored while no dispatcher runs, then the server comes back.
        do {
            let store = try TestAlerts.makeStore(directory: directory)
            raised.append(try await AlertRaiser(store: store, channels: channels(), signal: WakeSignal()).raise(TestAlerts.tokenInvalid(tenant: "late.example", accountID: 9)).id)
        }
        try await server.start()

        // Second daemon life: a new store and dispatcher over the same file deliver everything.
        let store = try TestAlerts.makeStore(directory: directory)
        let dispatcher = AlertDispatcher(store: store, channels: channels(), configuration: .init(backoff: Self.fastBackoff), logger: capture.logger())
        try await running(dispatcher) {
            let delivered = try await eventually(timeout: .seconds(15), "everything delivered") {
                try await raised.asyncMap { try await store.deliveries(alertID: $0) }.joined().allSatisfy { $0.state == .delivered }
            }
            #expect(delivered, "every delivery must succeed once the server is back")
            #expect(dispatcher.health.isHealthy)
        }
        let messages = try await server.messages()
        let ids = messages.compactMap { ($0["alert_id"] as? String).flatMap(Int64.init) }.sorted()
        #expect(ids == raised.sorted(), "each alert must arrive exactly once here (at-least-once, no loss): got \(ids)")
        #expect(messages.contains { ($0["subject"] as? String)?.contains("late.example") == true })
    }

    @Test func backoffGrowsAndStaysBounded() {
        var generator = SystemRandomNumberGenerator()
        let policy = BackoffPolicy(initial: .seconds(30), maximum: .seconds(3600), multiplier: 2, jitter: 0.2)
        let first = policy.delay(afterAttempt: 1, using: &generator)
        #expect(first <= .seconds(30) && first >= .seconds(24))
        let fourth = policy.delay(afterAttempt: 4, using: &generator)
        #expect(fourth <= .seconds(240) && fourth >= .seconds(192))
        for attempt in [20, 100, 10_000] {
            let late = policy.delay(afterAttempt: attempt, using: &generator)
            #expect(late <= .seconds(3600) && late >= .seconds(2880), "attempt \(attempt) gave \(late)")
        }
        let noJitter = BackoffPolicy(initial: .seconds(1), maximum: .seconds(10), jitter: 0)
        #expect(noJitter.delay(afterAttempt: 3, using: &generator) == .seconds(4))
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}

/// The outbox shared by a cluster's nodes: a row is delivered only under its lease.
@Suite("Alert dispatcher under leases")
struct AlertDispatcherLeaseTests {
    /// This node's leases in a ``SingleNodeLeaseStore`` over the test's store; another node claims in it directly.
    struct Leasing: WorkLeasing {
        let nodeName = "node-a"
        let leaseStore: any LeaseStore

        func claim(kind: LeaseKind, keys: [String], limit: Int) async throws -> [Lease] {
            try await leaseStore.claim(kind: kind, keys: keys, node: nodeName, limit: limit, duration: .seconds(30))
        }

        func claimDueGrants(limit: Int) async throws -> [Lease] {
            try await leaseStore.claimDueGrants(node: nodeName, limit: limit, duration: .seconds(30))
        }

        func holds(_ lease: Lease) -> Bool { lease.holder == nodeName }

        func release(_ leases: [Lease]) async { try? await leaseStore.release(leases) }
    }

    @Test("a delivery another node holds is left to it; once released, this node delivers it, once")
    func aDeliveryLeasedElsewhereIsLeftToIt() async throws {
        let directory = try TestAlerts.temporaryDirectory()
        let store = try TestAlerts.makeStore(directory: directory)
        let output = directory + "/hook.json"
        let hook = HookAlertChannel(command: HookCommand(name: "copy", arguments: [HookRunnerTests.script, output, "ok"]))
        let leases = SingleNodeLeaseStore(storage: store)
        let dispatcher = AlertDispatcher(store: store, channels: [hook], logger: Logger(label: "test"))
        dispatcher.shareDeliveries(through: Leasing(leaseStore: leases))
        let alert = try await AlertRaiser(store: store, channels: [hook], signal: dispatcher.signal).raise(TestAlerts.tokenInvalid())
        let delivery = try #require(try await store.deliveries(alertID: alert.id).first)
        let other = try await leases.claim(kind: .delivery, keys: ["\(alert.id)/\(delivery.channel)"], node: "node-b", limit: 1, duration: .seconds(30))
        #expect(other.count == 1)

        try await dispatcher.deliverDueRound()
        #expect(try await store.deliveries(alertID: alert.id).first?.state == .pending, "delivered while node-b held the row")
        #expect(!FileManager.default.fileExists(atPath: output))

        try await leases.release(other)
        try await dispatcher.deliverDueRound()
        #expect(try await store.deliveries(alertID: alert.id).first?.state == .delivered)
        #expect(FileManager.default.fileExists(atPath: output))
        // Released after its outcome was stored: a later claim finds the row delivered, and nothing is due.
        try FileManager.default.removeItem(atPath: output)
        try await dispatcher.deliverDueRound()
        #expect(!FileManager.default.fileExists(atPath: output), "delivered twice")
    }
}
