import Alerting
import ControlPlane
import Foundation
import Logging
import ServiceLifecycle
import Systemd
import TenantSyncCore

/// Keeps systemd's `STATUS=` line current and answers `tenantsyncctl status`.
final class StatusReporter: Service, Sendable {
    let store: any TenantSyncStorage
    let scheduler: SyncScheduler
    let deliveryHealth: @Sendable () -> DeliveryHealth
    /// Set while the database refuses writes (the token refresher's last write probe failed).
    let storeWriteFailure: @Sendable () -> StoreWriteFailure?
    let notifier: SystemdNotifier
    let interval: Duration
    let logger: Logger

    init(
        store: any TenantSyncStorage, scheduler: SyncScheduler, deliveryHealth: @escaping @Sendable () -> DeliveryHealth,
        storeWriteFailure: @escaping @Sendable () -> StoreWriteFailure? = { nil }, notifier: SystemdNotifier, interval: Duration = .seconds(15), logger: Logger
    ) {
        self.store = store
        self.scheduler = scheduler
        self.deliveryHealth = deliveryHealth
        self.storeWriteFailure = storeWriteFailure
        self.notifier = notifier
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        var last = ""
        while !Task.isCancelled {
            do {
                let text = try await line().text
                if text != last {
                    _ = notifier.status(text)
                    last = text
                }
            } catch {
                logger.warning("Status line could not be computed", metadata: ["error": "\(error)"])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            } catch {
                return
            }
        }
    }

    /// The status line as of now.
    func line() async throws -> StatusLine {
        let accounts = try await store.accounts()
        let tenants = Dictionary(uniqueKeysWithValues: try await store.tenants().map { ($0.id, $0.domain) })
        let open = try await store.openIncidents()
        var degraded: [StatusLine.DegradedAccount] = []
        for account in accounts {
            let domain = tenants[account.tenantID] ?? account.tenantID
            if account.state == .tokenInvalid || open.contains(where: { $0.accountID == account.id && $0.kind == .tokenInvalid }) {
                degraded.append(.init(tenantDomain: domain, service: account.service, state: "token invalid"))
            } else if open.contains(where: { $0.accountID == account.id && $0.kind == .tokenRefreshFailing }) {
                degraded.append(.init(tenantDomain: domain, service: account.service, state: "token refresh failing"))
            }
        }
        return StatusLine(
            accounts: accounts.count, provisioning: accounts.filter { $0.state == .provisioning }.count, degraded: degraded,
            nextSync: try await scheduler.nextDueDate(after: Date()),
            failingDeliveries: deliveryHealth().failingChannels.count, storeUnwritableSince: storeWriteFailure()?.failingSince
        )
    }

    /// The `Status` reply of the control socket.
    func daemonStatus(startedAt: Date) async throws -> DaemonStatus {
        let accounts = try await store.accounts()
        let tenants = Dictionary(uniqueKeysWithValues: try await store.tenants().map { ($0.id, $0) })
        let open = try await store.openIncidents()
        let degraded = accounts.filter { account in
            account.state == .tokenInvalid || open.contains { $0.accountID == account.id }
        }.map { AccountRef(id: $0.id, tenantID: $0.tenantID, tenantDomain: tenants[$0.tenantID]?.domain ?? $0.tenantID, service: $0.service, state: $0.state) }
        var nextSync: NextSync?
        for tenant in tenants.values {
            if let due = try await scheduler.nextDueDate(tenantID: tenant.id, after: Date()), nextSync.map({ due < $0.at }) ?? true {
                nextSync = NextSync(tenantID: tenant.id, tenantDomain: tenant.domain, at: due)
            }
        }
        var held: [SyncRun] = []
        for tenant in tenants.values.sorted(by: { $0.domain < $1.domain }) {
            held += try await store.heldSyncRuns(tenantID: tenant.id)
        }
        let health = deliveryHealth()
        let pendingDeliveries = try await store.dueDeliveries(at: .distantFuture, limit: 10_000)
        var channels: [ChannelHealth] = []
        for name in Set(pendingDeliveries.map(\.channel)).union(health.failingChannels.keys).sorted() {
            let pending = pendingDeliveries.filter { $0.channel == name }
            channels.append(ChannelHealth(
                channel: name, pending: pending.count, oldestPendingAt: pending.map(\.nextAttemptAt).min(),
                lastError: health.failingChannels[name]?.lastError, lastDeliveredAt: health.lastDeliveredAt
            ))
        }
        return DaemonStatus(
            version: TenantSyncVersion.current, startedAt: startedAt,
            accounts: AccountCounts(
                total: accounts.count, active: accounts.filter { $0.state == .active }.count,
                provisioning: accounts.filter { $0.state == .provisioning }.count,
                tokenInvalid: accounts.filter { $0.state == .tokenInvalid }.count
            ),
            degraded: degraded, nextSync: nextSync, alertDelivery: channels,
            unacknowledgedAlerts: try await store.alerts(includeAcknowledged: false, limit: 10_000).count,
            heldSyncs: held.map(SyncRunInfo.init), storeWriteFailure: storeWriteFailure()
        )
    }
}
