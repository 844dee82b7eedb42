import Foundation
import Logging
import MicrosoftCloud
import TenantSyncCore

/// One directory synchronization of one tenant: full or delta, page by page.
///
/// Crash safety: every page is its own transaction; the delta links are
/// committed only in the final transaction, together with the removals. A run
/// killed midway leaves the previous links in place, so the next run replays
/// from them (upserts are idempotent) or, with no links yet, starts a clean
/// full sync.
public struct DirectorySynchronizer: Sendable {
    /// How a run ended.
    public enum Outcome: Sendable, Equatable {
        case succeeded
        /// Held by the mass-deletion guard; `removals` users would go.
        case held(removals: Int, of: Int)
    }

    static let userFields = "id,userPrincipalName,displayName,mail,accountEnabled"

    let store: any DirectoryStore
    var graph: GraphClient
    let tokens: any GraphTokenSource
    private let currentSettings: @Sendable () -> Settings
    /// The settings in force, read afresh by each run and each step (the threshold is reloadable).
    var settings: Settings { currentSettings() }
    /// Counts the Graph calls for metered (evaluation-mode) accounts.
    let meter: (any GraphCallMeter)?
    /// Where a held run's alert goes; `nil` only where no outbox exists (benchmarks).
    let alerts: (any AccountStore & AlertStore)?
    /// The outbox channels of that alert (the daemon's configured ones, read at each alert); no default that might not exist.
    private let currentAlertChannels: @Sendable () -> [String]
    var alertChannels: [String] { currentAlertChannels() }
    let now: @Sendable () -> Date
    let logger: Logger
    /// Counts runs by outcome and times them (the metrics endpoint); `nil`: not counted.
    public var metrics: (any OperationalMetrics)?
    /// The tenant's sync lease the run works under, in a cluster: every directory batch it writes is fenced by it.
    var fence: SyncFence?

    /// A run's sync lease and the store that checks it.
    struct SyncFence: Sendable {
        var lease: Lease
        var store: any LeaseStore
    }

    /// - Parameters:
    ///   - settings, alertChannels: evaluated afresh at each use, so that the daemon can pass expressions reading its
    ///     reloadable configuration.
    public init(
        store: any DirectoryStore, graph: GraphClient, tokens: any GraphTokenSource, settings: @autoclosure @escaping @Sendable () -> Settings,
        meter: (any GraphCallMeter)? = nil, alerts: (any AccountStore & AlertStore)? = nil,
        alertChannels: @autoclosure @escaping @Sendable () -> [String] = [],
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.store = store
        self.graph = graph
        self.tokens = tokens
        self.currentSettings = settings
        self.meter = meter
        self.alerts = alerts
        self.currentAlertChannels = alertChannels
        self.now = now
        self.logger = logger
    }

    /// Runs one sync; delta when links are stored and `forceFull` is false, full otherwise.
    ///
    /// A delta reset (HTTP 410) ends the delta run as failed with that reason and
    /// starts a full run at once; the full run is returned.
    @discardableResult
    public func run(
        tenantID: String, service: ServiceKind?, trigger: SyncTrigger, forceFull: Bool = false,
        progress: @escaping @Sendable (SyncProgress) async -> Void = { _ in }
    ) async throws -> SyncRun {
        try await run(tenantID: tenantID, service: service, trigger: trigger, forceFull: forceFull, fence: nil, progress: progress)
    }

    /// A run whose directory batches are fenced by the tenant's sync lease (`nil`: one daemon, no lease).
    func run(
        tenantID: String, service: ServiceKind?, trigger: SyncTrigger, forceFull: Bool, fence: SyncFence?,
        progress: @escaping @Sendable (SyncProgress) async -> Void
    ) async throws -> SyncRun {
        // Daily runs are background work: Microsoft throttles Low first, ahead of the scanner's own traffic.
        var synchronizer = self
        synchronizer.fence = fence
        synchronizer.graph = try await graph.paced(tenantID: tenantID, priority: trigger == .daily ? .low : .normal, directory: store)
        let ended = try await synchronizer.runPaced(tenantID: tenantID, service: service, trigger: trigger, forceFull: forceFull, progress: progress)
        // Failures are counted where the run is marked failed (`fail`, a delta reset).
        counted(ended)
        return ended
    }

    /// Writes a directory batch in one transaction; under a sync lease, only while the lease is held (checked in that
    /// transaction): a node that lost the tenant writes nothing, and its run ends failed with `leaseLost`.
    func apply(_ batch: DirectoryBatch, tenantID: String) async throws -> DirectoryChangeCounts {
        if let fence {
            return try await fence.store.applyDirectoryBatch(tenantID: tenantID, batch: batch, at: now(), under: fence.lease)
        }
        return try await store.applyDirectoryBatch(tenantID: tenantID, batch: batch, at: now())
    }

    /// Reports a run that ended to the metrics (a run still marked running is not counted).
    func counted(_ run: SyncRun) {
        guard run.state != .running else { return }
        metrics?.syncRunFinished(
            trigger: run.trigger, mode: run.mode, result: run.state,
            duration: .milliseconds(max(0, Int64(((run.finishedAt ?? now()).timeIntervalSince(run.startedAt) * 1000).rounded())))
        )
    }

    func runPaced(
        tenantID: String, service: ServiceKind?, trigger: SyncTrigger, forceFull: Bool,
        progress: @escaping @Sendable (SyncProgress) async -> Void
    ) async throws -> SyncRun {
        let links = forceFull ? [:] : [
            "users": try await store.deltaLink(tenantID: tenantID, resource: "users"),
            "groups": try await store.deltaLink(tenantID: tenantID, resource: "groups"),
        ].compactMapValues { $0 }
        if links.count == 2 {
            let run = try await store.startSyncRun(tenantID: tenantID, service: service, trigger: trigger, mode: .delta, at: now())
            logStarted(run)
            do {
                try await performDelta(run: run, links: links, progress: progress)
                return try await store.syncRun(id: run.id) ?? run
            } catch let error as GraphError where error.kind == .deltaReset {
                let reason = "Microsoft reset the delta state (HTTP 410); falling back to a full sync"
                try await store.finishSyncRun(runID: run.id, state: .failed, error: reason, at: now())
                counted((try? await store.syncRun(id: run.id)) ?? run)
                try await store.clearDeltaLinks(tenantID: tenantID)
                logger.warning("Delta sync reset by Microsoft; running a full sync", metadata: ["tenant.id": "\(tenantID)", "sync.run": "\(run.id)"])
                let full = try await store.startSyncRun(tenantID: tenantID, service: service, trigger: trigger, mode: .full, at: now())
                try await store.setSyncRunNote(runID: full.id, note: "full sync after a delta reset (HTTP 410) in run \(run.id)")
                logStarted(full)
                return try await finish(full) { try await performFull(run: full, progress: progress) }
            } catch {
                try await fail(run, error)
                throw error
            }
        }
        let run = try await store.startSyncRun(tenantID: tenantID, service: service, trigger: trigger, mode: .full, at: now())
        logStarted(run)
        return try await finish(run) { try await performFull(run: run, progress: progress) }
    }

    func logStarted(_ run: SyncRun) {
        logger.info(
            "Sync started",
            metadata: [
                "message.id": "\(MessageID.syncStarted)", "tenant.id": "\(run.tenantID)", "sync.run": "\(run.id)",
                "sync.mode": "\(run.mode.rawValue)", "sync.trigger": "\(run.trigger.rawValue)",
            ]
        )
    }

    func finish(_ run: SyncRun, _ body: () async throws -> Void) async throws -> SyncRun {
        do {
            try await body()
            return try await store.syncRun(id: run.id) ?? run
        } catch {
            try await fail(run, error)
            throw error
        }
    }

    func fail(_ run: SyncRun, _ error: any Error) async throws {
        let message = (error as? GraphError)?.description ?? (error as? TenantSyncError)?.message ?? "\(error)"
        if error is CancellationError {
            try? await store.finishSyncRun(runID: run.id, state: .failed, error: "stopped by shutdown; the next run resumes", at: now())
        } else {
            try await store.finishSyncRun(runID: run.id, state: .failed, error: message, at: now())
        }
        counted((try? await store.syncRun(id: run.id)) ?? run)
        logger.error(
            "Sync failed",
            metadata: ["message.id": "\(MessageID.syncFailed)", "tenant.id": "\(run.tenantID)", "sync.run": "\(run.id)", "sync.error": "\(message)"]
        )
    }

    // MARK: Helpers

    func fetch<Item>(_ url: String, _ type: Item.Type, token: RunReader) async throws -> GraphPage<Item> {
        try Task.checkCancellation()
        let used = try await token.current()
        do {
            let page: GraphPage<Item>
            do {
                page = try await graph.page(url, as: type, accessToken: used)
            } catch let error as GraphError where error.kind == .unauthorized {
                // The token expired or was revoked mid-run: one fresh token, one more try (a 401 is not
                // metered). Concurrent requests that failed with the same token share one refresh.
                // A claims challenge (continuous access evaluation) is answered with its claims.
                let fresh = try await token.refreshed(replacing: used, claims: error.claimsChallenge?.claims)
                page = try await graph.page(url, as: type, accessToken: fresh)
            }
            await meter?.graphCallMade(tenantID: token.tenantID)
            try token.budget.charge(page.value.count, url: url)
            return page
        } catch let error as GraphError where error.kind == .paymentRequired {
            await meter?.paymentRequired(tenantID: token.tenantID)
            throw error
        }
    }

    func malformed(_ what: String, url: String) -> GraphError {
        GraphError(
            kind: .malformedResponse, status: 200, code: nil, message: "Graph returned \(what)", requestID: nil, retryAfter: nil,
            path: URLComponents(string: url)?.path ?? "?"
        )
    }

    /// The stored type of a group member, or `nil` for kinds protection ignores (contacts, service principals, devices).
    static func protectedMemberType(_ odataType: String?) -> GroupMembership.MemberType? {
        switch odataType {
        case "#microsoft.graph.user": .user
        case "#microsoft.graph.group": .group
        default: nil
        }
    }
}
