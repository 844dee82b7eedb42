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
    /// The stored credential expiries, nearest first.
    let credentialExpiries: @Sendable () async throws -> [CredentialExpiry]
    let notifier: SystemdNotifier
    let interval: Duration
    /// Times the pauses between status lines; a test passes a manual clock.
    let clock: any Clock<Duration>
    let logger: Logger

    init(
        store: any TenantSyncStorage, scheduler: SyncScheduler, deliveryHealth: @escaping @Sendable () -> DeliveryHealth,
        storeWriteFailure: @escaping @Sendable () -> StoreWriteFailure? = { nil },
        credentialExpiries: @escaping @Sendable () async throws -> [CredentialExpiry] = { [] },
        notifier: SystemdNotifier, interval: Duration = .seconds(15),
        clock: any Clock<Duration> = ContinuousClock(), logger: Logger
    ) {
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
                try await cancelWhenGracefulShutdown { try await self.clock.sleep(for: self.interval) }
            } catch {
                return
            }
        }
    }

    /// The status line as of now: a bounded number of queries, whatever the number of tenants.
    func line() async throws -> StatusLine {
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

    /// The `Status` reply of the control socket: one query per table it needs, whatever the number of tenants.
    func daemonStatus(startedAt: Date) async throws -> DaemonStatus {
        let counts = try await store.accountStateCounts()
        let degraded = try await store.accountOverviews(AccountQuery(needsAttention: true)).map {
            AccountRef(id: $0.account.id, tenantID: $0.account.tenantID, tenantDomain: $0.tenant.domain, service: $0.account.service, state: $0.account.state)
        }
        let nextSync = try await scheduler.firstDue(now: Date()).map {
            NextSync(tenantID: $0.tenant.tenantID, tenantDomain: $0.tenant.domain, at: $0.at)
        }
        let held = try await store.heldSyncRunsOfAllTenants()
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
            degraded: degraded, nextSync: nextSync, alertDelivery: channels,
            unacknowledgedAlerts: try await store.unacknowledgedAlertCount(),
            heldSyncs: held.map(SyncRunInfo.init), storeWriteFailure: storeWriteFailure(),
            nearestCredentialExpiry: try await credentialExpiries().first.map(CredentialExpiryInfo.init)
        )
    }
}
