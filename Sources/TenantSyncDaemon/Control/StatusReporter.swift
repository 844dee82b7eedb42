import Alerting
import ControlPlane
import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import Systemd
import TenantSyncCore

/// Keeps systemd's `STATUS=` line current and answers `tenantsyncctl status`.
final class StatusReporter: Service, Sendable {
    let store: any TenantSyncStorage
    let scheduler: SyncScheduler
    let deliveryHealth: @Sendable () -> DeliveryHealth
    /// Set while the database refuses writes (the token refresher's last write probe failed).
    let storeWriteFailure: @Sendable () -> StoreWriteFailure?
    /// The stored credential expiries, nearest first.
    let credentialExpiries: @Sendable () async throws -> [CredentialExpiry]
    let notifier: SystemdNotifier
    let interval: Duration
    /// Times the pauses between status lines; a test passes a manual clock.
    let clock: any Clock<Duration>
    let logger: Logger
    /// How long one status read may wait for the database before the status says it does not answer.
    let readDeadline: Duration
    /// Set while the database does not answer the status's reads: since when, and the last error.
    private let unreachable = Mutex<StoreUnreachable?>(nil)

    /// The database not answering, as the status reports it.
    struct StoreUnreachable: Sendable, Equatable {
        var since: Date
        var error: String
    }

    init(
        store: any TenantSyncStorage, scheduler: SyncScheduler, deliveryHealth: @escaping @Sendable () -> DeliveryHealth,
        storeWriteFailure: @escaping @Sendable () -> StoreWriteFailure? = { nil },
        credentialExpiries: @escaping @Sendable () async throws -> [CredentialExpiry] = { [] },
        notifier: SystemdNotifier, interval: Duration = .seconds(15),
        clock: any Clock<Duration> = ContinuousClock(), readDeadline: Duration = .seconds(5), logger: Logger
    ) {
        self.readDeadline = readDeadline
        self.store = store
        self.scheduler = scheduler
        self.deliveryHealth = deliveryHealth
        self.storeWriteFailure = storeWriteFailure
        self.credentialExpiries = credentialExpiries
        self.notifier = notifier
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    func run() async throws {
        var last = ""
        while !Task.isCancelled {
            let text: String
            do {
                text = try await line().text
            } catch {
                // The database does not answer (or the line failed otherwise): say so, never the last good line.
                text = unreachable.withLock { $0 }.map { StatusLine.storeUnreachableText(since: $0.since, error: $0.error) }
                    ?? "status unavailable: \(error)"
            }
            if text != last {
                _ = notifier.status(text)
                last = text
            }
            // While the database does not answer, look again sooner: the line says so until it answers again.
            let pause = unreachable.withLock { $0 } == nil ? interval : min(interval, Self.unreachableRecheck)
            do {
                try await cancelWhenGracefulShutdown { try await self.clock.sleep(for: pause) }
            } catch {
                return
            }
        }
    }

    /// How often the status line is recomputed while the database does not answer.
    static let unreachableRecheck: Duration = .seconds(5)

    /// Runs the status's reads within ``readDeadline``; a failure or a timeout is recorded (the status then says the
    /// database does not answer, since when) and thrown as a temporary failure naming it.
    private func reading<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let deadline = readDeadline
        let outcome: Result<Value, any Error> = await withTaskGroup(of: Result<Value, any Error>?.self) { group in
            group.addTask {
                do { return .success(try await body()) } catch { return .failure(error) }
            }
            group.addTask {
                do { try await Task.sleep(for: deadline) } catch { return nil }
                return .failure(TenantSyncError(.storeUnavailable, "no answer within \(deadline)"))
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(CancellationError())
        }
        switch outcome {
        case .success(let value):
            if let ended = unreachable.withLock({ state in defer { state = nil }; return state }) {
                logger.notice("The database answers the status again", metadata: ["store.failing_since": "\(ended.since)"])
            }
            return value
        case .failure(let error as CancellationError):
            throw error
        case .failure(let error):
            let message = (error as? TenantSyncError)?.message ?? "\(error)"
            let (state, isNew) = unreachable.withLock { state -> (StoreUnreachable, Bool) in
                let current = StoreUnreachable(since: state?.since ?? Date(), error: message)
                defer { state = current }
                return (current, state == nil)
            }
            if isNew {
                logger.error("The database does not answer; the daemon keeps retrying", metadata: ["store.error": "\(message)"])
            }
            throw TenantSyncError(
                TenantSyncError.Code(rawValue: "TemporaryFailure"),
                StatusLine.storeUnreachableText(since: state.since, error: state.error),
                context: ["store.error": state.error]
            )
        }
    }

    /// The status line as of now: a bounded number of queries, whatever the number of tenants.
    func line() async throws -> StatusLine {
        try await reading { try await self.computeLine() }
    }

    private func computeLine() async throws -> StatusLine {
        let counts = try await store.accountStateCounts()
        let degraded: [StatusLine.DegradedAccount] = try await store.accountOverviews(AccountQuery(needsAttention: true)).compactMap { row in
            let domain = row.tenant.domain
            if row.account.state == .tokenInvalid || row.openIncidentKinds.contains(.tokenInvalid) {
                return .init(tenantDomain: domain, service: row.account.service, state: "token invalid")
            } else if row.openIncidentKinds.contains(.tokenRefreshFailing) {
                return .init(tenantDomain: domain, service: row.account.service, state: "token refresh failing")
            }
            return nil
        }
        return StatusLine(
            accounts: counts.total, provisioning: counts[.provisioning], degraded: degraded,
            nextSync: try await scheduler.nextDueDate(after: Date()),
            failingDeliveries: deliveryHealth().failingChannels.count, storeUnwritableSince: storeWriteFailure()?.failingSince
        )
    }

    /// How many degraded accounts and held runs the `Status` reply lists (it counts them all).
    static let listedInStatus = 20

    /// The `Status` reply of the control socket: one query per table it needs, whatever the number of tenants.
    func daemonStatus(startedAt: Date) async throws -> DaemonStatus {
        try await reading { try await self.computeDaemonStatus(startedAt: startedAt) }
    }

    private func computeDaemonStatus(startedAt: Date) async throws -> DaemonStatus {
        let counts = try await store.accountStateCounts()
        // The first few degraded accounts and held runs, with how many there are: a reply of fixed size whatever the
        // fleet (`accounts --state` and `directory` page through the rest).
        let degraded = try await store.accountOverviews(AccountQuery(needsAttention: true, limit: Self.listedInStatus)).map {
            AccountRef(id: $0.account.id, tenantID: $0.account.tenantID, tenantDomain: $0.tenant.domain, service: $0.account.service, state: $0.account.state)
        }
        let degradedTotal = try await store.accountsNeedingAttentionCount()
        let nextSync = try await scheduler.firstDue(now: Date()).map {
            NextSync(tenantID: $0.tenant.tenantID, tenantDomain: $0.tenant.domain, at: $0.at)
        }
        let held = try await store.heldSyncRunsOfAllTenants(limit: Self.listedInStatus)
        let heldTotal = try await store.heldSyncRunCount()
        let health = deliveryHealth()
        let backlog = Dictionary(uniqueKeysWithValues: try await store.pendingDeliveriesByChannel().map { ($0.channel, $0) })
        let channels = Set(backlog.keys).union(health.failingChannels.keys).sorted().map { name in
            ChannelHealth(
                channel: name, pending: backlog[name]?.pending ?? 0, oldestPendingAt: backlog[name]?.oldestPendingAt,
                lastError: health.failingChannels[name]?.lastError, lastDeliveredAt: health.lastDeliveredAt
            )
        }
        return DaemonStatus(
            version: TenantSyncVersion.current, startedAt: startedAt,
            accounts: AccountCounts(
                total: counts.total, active: counts[.active], provisioning: counts[.provisioning], tokenInvalid: counts[.tokenInvalid]
            ),
            degraded: degraded, degradedTotal: degradedTotal, nextSync: nextSync, alertDelivery: channels,
            unacknowledgedAlerts: try await store.unacknowledgedAlertCount(),
            heldSyncs: held.map(SyncRunInfo.init), heldSyncsTotal: heldTotal, storeWriteFailure: storeWriteFailure(),
            nearestCredentialExpiry: try await credentialExpiries().first.map(CredentialExpiryInfo.init)
        )
    }
}
