import ControlPlane
import Foundation
import Logging
import TenantSyncConfig
import TenantSyncCore

/// Answers `io.tenantsync.Control` calls from the store and the daemon's services.
// Over 300 lines: one short method per control call, each mapping wire types to a service, read best side by side.
struct DaemonControl: ControlHandler {
    let store: any TenantSyncStorage
    let operations: TenantOperations
    let coordinator: SyncCoordinator
    let scheduler: SyncScheduler
    let reloader: ConfigurationReloader
    let status: StatusReporter
    let provisioning: (any AccountProvisioning)?
    let startedAt: Date
    /// `[daemon] node_name`: this daemon among the cluster's nodes.
    let nodeName: String
    /// The nodes of a store several daemons share; `nil` on SQLite, where this daemon is the only one.
    let cluster: ClusterView?
    /// This node's leases on a shared store: confirming or discarding a held run takes the tenant's sync lease, so no
    /// node syncs the tenant meanwhile. `nil` on SQLite.
    var leasing: (any WorkLeasing)? = nil

    /// The accounts, runs and alerts counted here are read from the store (on a shared one, the whole cluster's), not
    /// from this daemon's own work; alert delivery health and a refused write are this daemon's.
    func status(context: ControlContext) async throws -> DaemonStatus {
        var reply = try await status.daemonStatus(startedAt: startedAt)
        reply.cluster = try await clusterCounts(context: context)
        return reply
    }

    /// Accounts listed when the caller names no limit; `--limit` goes up to ``maximumAccountPage``.
    static let defaultAccountPage = 1_000
    static let maximumAccountPage = 10_000

    /// One page of accounts: two queries at most (the tenant named, then the page), whatever the number of tenants.
    func listAccounts(_ request: ListAccountsRequest, context: ControlContext) async throws -> AccountPage {
        let state = try ListingArguments.state(request.state)
        let service = try ListingArguments.service(request.service)
        let limit = try ListingArguments.limit(request.limit, default: Self.defaultAccountPage, maximum: Self.maximumAccountPage)
        let after = try ListingArguments.cursor(request.after)
        var tenantID: String?
        if let tenant = request.tenant { tenantID = try await operations.tenant(tenant).id }
        // One more than asked tells whether another page follows.
        var rows = try await store.accountOverviews(
            AccountQuery(tenantID: tenantID, state: state, service: service, afterID: after, limit: limit + 1)
        )
        let more = rows.count > limit
        if more { rows.removeLast() }
        let now = Date()
        let accounts = rows.map { row in
            let account = row.account
            let directory = account.service.sharesDirectoryScope
            return AccountSummary(
                id: account.id, tenantID: account.tenantID, tenantDomain: row.tenant.domain, service: account.service,
                state: account.state, scope: directory ? row.tenant.syncScope : nil,
                lastSyncAt: row.lastRun?.finishedAt ?? row.lastRun?.startedAt,
                nextSyncAt: directory && row.tenantIsScheduled ? scheduler.nextDue(
                    ScheduledTenant(tenantID: row.tenant.id, domain: row.tenant.domain, lastRunStartedAt: row.lastRun?.startedAt), now: now
                ) : nil,
                nextRefreshAt: row.nextRefreshAt, openIncidents: row.openIncidentKinds.count
            )
        }
        return AccountPage(accounts: accounts, next: more ? accounts.last.map { ListingArguments.cursor(for: $0.id) } : nil)
    }

    /// One account: a bounded number of queries (its grants' token states, at most one per grant), whatever the number of tenants.
    func account(id: Int64, context: ControlContext) async throws -> AccountDetail {
        guard let account = try await store.account(id: id) else {
            throw TenantSyncError(.accountNotFound, "No service account \(id); 'tenantsyncctl accounts' lists them.", context: ["account.id": "\(id)"])
        }
        let tenant = try await store.tenant(idOrDomain: account.tenantID)
        let open = try await store.openIncidents(accountID: account.id)
        var grants: [GrantInfo] = []
        for grant in try await store.grants(accountID: account.id) {
            grants.append(GrantInfo(
                grant: grant, token: try await store.tokenStatus(grantID: grant.id),
                incident: open.first { $0.grantID == grant.id }
            ))
        }
        let lastSync = try await store.syncRuns(tenantID: account.tenantID, limit: 1).first
        var details: [String: VarlinkValue] = [:]
        if let data = account.detailsJSON.data(using: .utf8), let parsed = try? JSONDecoder().decode([String: VarlinkValue].self, from: data) {
            details = parsed
        }
        return AccountDetail(
            account: account, tenantDomain: tenant?.domain ?? account.tenantID,
            scope: account.service.sharesDirectoryScope ? tenant?.syncScope : nil, grants: grants,
            lastSync: lastSync.map(SyncRunInfo.init),
            heldSync: account.service.sharesDirectoryScope ? try await store.heldSyncRuns(tenantID: account.tenantID).first.map(SyncRunInfo.init) : nil,
            nextSyncAt: try await nextSync(tenant, account.service), details: details
        )
    }

    func provision(_ request: ProvisionRequest, context: ControlContext, updates: ControlUpdates<ProvisionStep>) async throws -> ProvisionStep {
        guard let provisioning else { throw VarlinkError.methodNotImplemented(context.method) }
        return ProvisionStep(try await provisioning.provision(ProvisioningRequest(request), updates: ProvisioningUpdates(updates), logger: context.logger))
    }

    func continueProvisioning(_ request: ContinueProvisioningRequest, context: ControlContext, updates: ControlUpdates<ProvisionStep>) async throws -> ProvisionStep {
        guard let provisioning else { throw VarlinkError.methodNotImplemented(context.method) }
        return ProvisionStep(
            try await provisioning.continueProvisioning(ProvisioningContinuation(request), updates: ProvisioningUpdates(updates), logger: context.logger)
        )
    }

    func renew(_ request: RenewRequest, context: ControlContext, updates: ControlUpdates<ProvisionStep>) async throws -> ProvisionStep {
        guard let provisioning else { throw VarlinkError.methodNotImplemented(context.method) }
        return ProvisionStep(try await provisioning.renew(RenewalRequest(request), updates: ProvisioningUpdates(updates), logger: context.logger))
    }

    func upgradeOutbound(id: Int64, context: ControlContext) async throws -> ProvisionStep {
        guard let provisioning else { throw VarlinkError.methodNotImplemented(context.method) }
        return ProvisionStep(try await provisioning.upgradeOutbound(id: id, logger: context.logger))
    }

    func grantActivityData(_ request: GrantActivityDataRequest, context: ControlContext, updates: ControlUpdates<ProvisionStep>) async throws -> ProvisionStep {
        guard let provisioning else { throw VarlinkError.methodNotImplemented(context.method) }
        return ProvisionStep(try await provisioning.grantActivityData(ActivityDataRequest(request), updates: ProvisioningUpdates(updates), logger: context.logger))
    }

    func deprovision(id: Int64, context: ControlContext) async throws -> AccountRef {
        guard let provisioning else { throw VarlinkError.methodNotImplemented(context.method) }
        return AccountRef(try await provisioning.deprovision(id: id, logger: context.logger))
    }

    func sync(_ request: SyncRequest, context: ControlContext, updates: ControlUpdates<ControlPlane.SyncProgress>) async throws -> ControlPlane.SyncProgress {
        let tenantID = try await operations.tenant(request.tenant).id
        // Listen before submitting so no progress is missed.
        let stream = await coordinator.progress(tenantID: tenantID)
        let full = request.full ?? false
        let (tenant, coalesced) = try await operations.requestManualSync(tenant: request.tenant, service: request.service, forceFull: full)
        context.logger.info("Sync requested over the control socket", metadata: ["tenant.id": "\(tenant.id)", "sync.coalesced": "\(coalesced)", "sync.full": "\(full)"])
        guard updates.isStreaming else {
            let placeholder = SyncRun(
                id: 0, tenantID: tenant.id, service: request.service, trigger: .manual, mode: full ? .full : .delta, state: .running,
                startedAt: Date(), finishedAt: nil, pages: 0, counts: DirectoryChangeCounts(), error: nil
            )
            // A full request is answered only by a full run going now, never by an older or a delta run.
            let latest = try await store.syncRuns(tenantID: tenant.id, limit: 1).first
            let current = latest.flatMap { full && ($0.mode != .full || $0.state != .running) ? nil : $0 } ?? placeholder
            return ControlPlane.SyncProgress(run: SyncRunInfo(current), done: false, message: coalesced ? "joined the sync already running" : "sync queued")
        }
        for await progress in stream {
            if ["ended", "held", "failed"].contains(progress.phase) { break }
            if let run = try await runInfo(progress) {
                try await updates.send(ControlPlane.SyncProgress(run: run, done: false, message: progress.phase))
            }
        }
        let run = try await coordinator.completionOrLatest(tenantID: tenant.id, store: store)
        return ControlPlane.SyncProgress(run: SyncRunInfo(run), done: true, message: run.note ?? run.error)
    }

    func confirmHeldSync(tenant: String, context: ControlContext) async throws -> SyncRunInfo {
        try await withHeldRun(tenant) { held in
            let counts = try await store.confirmHeldSyncRun(runID: held.id, at: Date())
            context.logger.notice(
                "Held sync confirmed; removals applied",
                metadata: [
                    "tenant.id": "\(held.tenantID)", "sync.run": "\(held.id)", "sync.users_removed": "\(counts.usersRemoved)",
                    "sync.groups_removed": "\(counts.groupsRemoved)",
                ]
            )
            return SyncRunInfo(try await store.syncRun(id: held.id) ?? held)
        }
    }

    func discardHeldSync(tenant: String, context: ControlContext) async throws -> SyncRunInfo {
        try await withHeldRun(tenant) { held in
            try await store.discardHeldSyncRun(runID: held.id, at: Date())
            context.logger.notice("Held sync discarded; nothing removed", metadata: ["tenant.id": "\(held.tenantID)", "sync.run": "\(held.id)"])
            return SyncRunInfo(try await store.syncRun(id: held.id) ?? held)
        }
    }

    /// Runs `body` with the tenant's held run while the tenant is reserved, so no sync starts meanwhile.
    ///
    /// Refused while a sync of the tenant runs or is queued: it may hold again or supersede the held run.
    private func withHeldRun<T: Sendable>(_ tenant: String, _ body: (SyncRun) async throws -> T) async throws -> T {
        let tenantID = try await operations.tenant(tenant).id
        guard await coordinator.reserveIdle(tenantID: tenantID) else {
            throw TenantSyncError(
                TenantSyncError.Code(rawValue: "TemporaryFailure"),
                "A sync of the tenant is running or queued; it may hold again or supersede the held run. Retry when it has ended.",
                context: ["tenant.id": tenantID]
            )
        }
        var lease: Lease?
        if let leasing {
            do {
                lease = try await leasing.claim(kind: .sync, keys: [tenantID], limit: 1).first
            } catch {
                await coordinator.release(tenantID: tenantID)
                throw error
            }
            guard lease != nil else {
                await coordinator.release(tenantID: tenantID)
                throw TenantSyncError(
                    TenantSyncError.Code(rawValue: "TemporaryFailure"),
                    "Another node of the cluster is syncing the tenant now; it may hold again or supersede the held run. Retry when it has ended.",
                    context: ["tenant.id": tenantID]
                )
            }
        }
        do {
            guard let held = try await store.heldSyncRuns(tenantID: tenantID).first else {
                throw TenantSyncError(
                    .noHeldSync, "No sync run of the tenant is held by the mass-deletion guard; nothing to confirm or discard.",
                    context: ["tenant.id": tenantID]
                )
            }
            let result = try await body(held)
            if let lease { await leasing?.release([lease]) }
            await coordinator.release(tenantID: tenantID)
            return result
        } catch {
            if let lease { await leasing?.release([lease]) }
            await coordinator.release(tenantID: tenantID)
            throw error
        }
    }

    func extend(tenant: String, context: ControlContext, updates: ControlUpdates<ExtendProgress>) async throws -> ExtendProgress {
        let before = try await operations.tenant(tenant)
        let accounts = try await store.accounts().filter { $0.tenantID == before.id && $0.service.sharesDirectoryScope }
        let switched = before.syncScope == .selected ? accounts.map(\.service) : []
        let stream = await coordinator.progress(tenantID: before.id)
        let extended = try await operations.extendToAllTargets(tenant: tenant)
        if updates.isStreaming {
            for await progress in stream {
                if ["ended", "held", "failed"].contains(progress.phase) { break }
                if let run = try await runInfo(progress) {
                    try await updates.send(ExtendProgress(switched: switched, progress: .init(run: run, done: false, message: progress.phase)))
                }
            }
        }
        let run = try await coordinator.completionOrLatest(tenantID: extended.id, store: store)
        return ExtendProgress(switched: switched, progress: .init(run: SyncRunInfo(run), done: run.state != .running, message: run.note ?? run.error))
    }

    func listTargets(tenant: String, context: ControlContext) async throws -> TargetList {
        let tenant = try await operations.tenant(tenant)
        let known = try await store.directoryUserIDs(tenantID: tenant.id)
        let targets = try await store.selectedTargets(tenantID: tenant.id).map {
            TargetInfo($0, exists: $0.userID.map { known.isEmpty || known.contains($0) } ?? true)
        }
        return TargetList(tenantID: tenant.id, scope: tenant.syncScope, targets: targets)
    }

    func addTargets(_ request: AddTargetsRequest, context: ControlContext) async throws -> TargetsAdded {
        let added = try await operations.addSelectedTargets(tenant: request.tenant, userPrincipalNames: request.users, groupIDs: request.groups)
        let tenant = try await operations.tenant(request.tenant)
        let total = try await store.selectedTargets(tenantID: tenant.id).count
        return TargetsAdded(added: added.map { TargetInfo($0, exists: true) }, total: total)
    }

    func removeTargets(_ request: RemoveTargetsRequest, context: ControlContext) async throws -> TargetsRemoved {
        var removed = request.users
        if !request.users.isEmpty {
            try await operations.removeSelectedTargets(tenant: request.tenant, userPrincipalNames: request.users)
        }
        if request.missing == true {
            removed += try await operations.pruneSelectedTargets(tenant: request.tenant)
        }
        let tenant = try await operations.tenant(request.tenant)
        return TargetsRemoved(removed: removed, total: try await store.selectedTargets(tenantID: tenant.id).count)
    }

    func searchGroups(tenant: String, prefix: String, context: ControlContext) async throws -> [GroupMatch] {
        let tenantID = try await operations.tenant(tenant).id
        let groups = try await operations.searchGroups(tenant: tenant, prefix: prefix)
        // Counted in the store for the matched groups only, not by loading the tenant's memberships.
        let counts = try await store.memberCounts(tenantID: tenantID, groupIDs: groups.map(\.id))
        return groups.map { GroupMatch(id: $0.id, displayName: $0.displayName, mail: $0.mail, members: counts[$0.id] ?? 0) }
    }

    /// One page of alerts: three queries at most (the tenant named, the page, its deliveries), whatever the number of tenants.
    func listAlerts(_ request: ListAlertsRequest, context: ControlContext) async throws -> AlertPage {
        let service = try ListingArguments.service(request.service)
        let acknowledgement = try ListingArguments.alertState(request.state, all: request.all ?? false)
        let limit = try ListingArguments.limit(request.limit, default: 100, maximum: 1_000)
        let before = try ListingArguments.cursor(request.after)
        var tenantID: String?
        if let tenant = request.tenant { tenantID = try await operations.tenant(tenant).id }
        var alerts = try await store.alerts(
            AlertQuery(acknowledgement: acknowledgement, tenantID: tenantID, service: service, beforeID: before, limit: limit + 1)
        )
        let more = alerts.count > limit
        if more { alerts.removeLast() }
        let deliveries = try await store.deliveries(alertIDs: alerts.map(\.id))
        return AlertPage(
            alerts: alerts.map { AlertInfo($0, deliveries: deliveries[$0.id] ?? []) },
            next: more ? alerts.last.map { ListingArguments.cursor(for: $0.id) } : nil
        )
    }

    func acknowledgeAlert(id: Int64, context: ControlContext) async throws -> AlertInfo {
        try await store.acknowledgeAlert(id: id, at: Date())
        guard let alert = try await store.alert(id: id) else { throw TenantSyncError(.invalidArgument, "No alert \(id).") }
        return AlertInfo(alert, deliveries: try await store.deliveries(alertID: id))
    }

    func reload(context: ControlContext) async throws -> [String] {
        do {
            let outcome = try await reloader.reload()
            return outcome.applied.map { "applied \($0)" } + outcome.needRestart.map { "needs a restart: \($0)" }
        } catch {
            throw TenantSyncError(.invalidConfiguration, "The configuration was not reloaded: \(error)")
        }
    }

    /// The run as recorded, with the live counts of a running one (its row is updated about once a second).
    private func runInfo(_ progress: TenantSyncDaemon.SyncProgress) async throws -> SyncRunInfo? {
        guard var run = try await store.syncRun(id: progress.runID) else { return nil }
        if run.state == .running {
            run.pages = progress.pages
            run.counts = progress.counts
        }
        return SyncRunInfo(run)
    }

    private func nextSync(_ tenant: Tenant?, _ service: ServiceKind) async throws -> Date? {
        guard let tenant, service.sharesDirectoryScope, tenant.syncScope == .all else { return nil }
        return try await scheduler.nextDueDate(tenantID: tenant.id, after: Date())
    }
}

extension SyncCoordinator {
    /// The run that just ended, or the tenant's latest run when it ended before the caller asked.
    func completionOrLatest(tenantID: String, store: any DirectoryStore) async throws -> SyncRun {
        if isBusy(tenantID: tenantID) { return try await completion(tenantID: tenantID) }
        guard let run = try await store.syncRuns(tenantID: tenantID, limit: 1).first else {
            throw TenantSyncError(.invalidArgument, "No sync run of the tenant was recorded.")
        }
        return run
    }
}
