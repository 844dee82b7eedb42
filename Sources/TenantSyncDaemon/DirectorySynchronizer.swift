import Foundation
import Logging
import MicrosoftCloud
import Synchronization
import Systemd
import TenantSyncCore

/// One directory synchronization of one tenant: full or delta, page by page.
///
/// Crash safety: every page is its own transaction; the delta links are
/// committed only in the final transaction, together with the removals. A run
/// killed midway leaves the previous links in place, so the next run replays
/// from them (upserts are idempotent) or, with no links yet, starts a clean
/// full sync.
public struct DirectorySynchronizer: Sendable {
    public struct Settings: Sendable {
        /// Share of a tenant's users a run may remove before it is held for an operator.
        public var massDeletionThreshold: Double
        /// Unused: a full sync no longer lists members group by group (one `/groups/delta` round reads them all).
        /// Kept so existing callers compile; remove with them.
        public var membershipConcurrency: Int
        /// Unused for the same reason: the group round writes one transaction per page.
        public var groupsPerTransaction: Int
        /// Users written in one transaction during a full sync (whole pages, so up to 998 more).
        ///
        /// Fewer, larger transactions rewrite each index page of the WAL less often: user ids are
        /// GUIDs, so one page of 999 users touches nearly every leaf of a small tenant's indexes.
        public var usersPerTransaction: Int
        /// Pages one listing (users, groups, one group's members, one delta round) may span.
        public var maximumPagesPerRead: Int
        /// Directory objects (users, groups, members) one run may read, all listings together.
        ///
        /// Ten million: a tenant of 300,000 users whose groups hold thirty memberships each stays well
        /// below it, while a Graph that never stops sending is stopped long before the unit's MemoryMax=.
        public var maximumObjectsPerRun: Int

        public init(
            massDeletionThreshold: Double = 0.2, membershipConcurrency: Int = 8, groupsPerTransaction: Int = 200,
            usersPerTransaction: Int = 5_000, maximumPagesPerRead: Int = GraphPageTrail.defaultMaximumPages,
            maximumObjectsPerRun: Int = 10_000_000
        ) {
            self.massDeletionThreshold = massDeletionThreshold
            self.membershipConcurrency = membershipConcurrency
            self.groupsPerTransaction = groupsPerTransaction
            self.usersPerTransaction = usersPerTransaction
            self.maximumPagesPerRead = maximumPagesPerRead
            self.maximumObjectsPerRun = maximumObjectsPerRun
        }
    }

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
        // Daily runs are background work: Microsoft throttles Low first, ahead of the scanner's own traffic.
        var synchronizer = self
        synchronizer.graph = graph.paced(GraphPacing(
            tenantID: tenantID, users: try await store.directoryUserIDs(tenantID: tenantID).count,
            priority: trigger == .daily ? .low : .normal
        ))
        let ended = try await synchronizer.runPaced(tenantID: tenantID, service: service, trigger: trigger, forceFull: forceFull, progress: progress)
        // Failures are counted where the run is marked failed (`fail`, a delta reset).
        counted(ended)
        return ended
    }

    /// Reports a run that ended to the metrics (a run still marked running is not counted).
    private func counted(_ run: SyncRun) {
        guard run.state != .running else { return }
        metrics?.syncRunFinished(
            trigger: run.trigger, mode: run.mode, result: run.state,
            duration: .milliseconds(max(0, Int64(((run.finishedAt ?? now()).timeIntervalSince(run.startedAt) * 1000).rounded())))
        )
    }

    private func runPaced(
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

    private func logStarted(_ run: SyncRun) {
        logger.info(
            "Sync started",
            metadata: [
                "message.id": "\(MessageID.syncStarted)", "tenant.id": "\(run.tenantID)", "sync.run": "\(run.id)",
                "sync.mode": "\(run.mode.rawValue)", "sync.trigger": "\(run.trigger.rawValue)",
            ]
        )
    }

    private func finish(_ run: SyncRun, _ body: () async throws -> Void) async throws -> SyncRun {
        do {
            try await body()
            return try await store.syncRun(id: run.id) ?? run
        } catch {
            try await fail(run, error)
            throw error
        }
    }

    private func fail(_ run: SyncRun, _ error: any Error) async throws {
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

    // MARK: Full

    private func performFull(run: SyncRun, progress: @escaping @Sendable (SyncProgress) async -> Void) async throws {
        let tenantID = run.tenantID
        let token = RunReader(tenantID: tenantID, source: tokens, budget: RunReadBudget(limit: settings.maximumObjectsPerRun))
        let tally = RunTally(run: run, now: now)

        // Take the users' delta position first: whatever changes while we read is replayed by the next delta run.
        // The groups' link is the end of the group round itself, which reads the memberships too.
        async let usersLinkRead = latestDeltaLink("/users/delta?$select=\(Self.userFields)&$deltatoken=latest", token: token)
        let usersBefore = try await store.directoryUserIDs(tenantID: tenantID)
        let groupsBefore = try await store.directoryGroupIDs(tenantID: tenantID)
        let usersLink = try await usersLinkRead

        // Users on one side, groups with their members on the other: the two streams overlap, and the
        // store serializes their transactions. The order of the data commits does not matter for a
        // full read; the delta links commit only at the end, with the removals.
        let (seenUsers, groupRound): (Set<String>, GroupRoundResult) = try await withThrowingTaskGroup(of: Set<String>.self) { group in
            group.addTask { try await readUsers(tenantID: tenantID, token: token, tally: tally, progress: progress) }
            let round = try await readGroupRound(tenantID: tenantID, token: token, tally: tally, progress: progress)
            let users = try await group.next() ?? []
            return (users, round)
        }
        let links = ["users": usersLink, "groups": groupRound.deltaLink]
        logIgnoredMembers(groupRound.ignoredMembers, run: run)
        let seenGroups = groupRound.seenGroups

        let removedUsers = usersBefore.subtracting(seenUsers).sorted()
        let removedGroups = groupsBefore.subtracting(seenGroups).sorted()
        try await commitEnd(
            run: run, tally: tally, removedUsers: removedUsers, removedGroups: removedGroups, userCountBefore: usersBefore.count,
            links: links, progress: progress
        )
    }

    /// Reads every user page, fetching the next page while the current one is written.
    private func readUsers(
        tenantID: String, token: RunReader, tally: RunTally, progress: @escaping @Sendable (SyncProgress) async -> Void
    ) async throws -> Set<String> {
        var seen = Set<String>()
        var batch = DirectoryBatch()
        var pages = 0
        try await forEachPage(graph.url("/users?$select=\(Self.userFields)&$top=999"), GraphUser.self, token: token) { page, url in
            pages += 1
            for user in page.value {
                guard let upn = user.userPrincipalName else {
                    throw malformed("a user without userPrincipalName", url: url)
                }
                seen.insert(user.id)
                batch.upsertedUsers.append(DirectoryUser(
                    id: user.id, userPrincipalName: upn, displayName: user.displayName, mail: user.mail, accountEnabled: user.accountEnabled ?? true
                ))
            }
            guard batch.upsertedUsers.count >= settings.usersPerTransaction || page.nextLink == nil else { return }
            let counts = try await store.applyDirectoryBatch(tenantID: tenantID, batch: batch, at: now())
            try await tally.add(counts, pages: pages, store: store, progress: progress, phase: "users")
            batch = DirectoryBatch()
            pages = 0
        }
        return seen
    }

    /// What a full group round read.
    private struct GroupRoundResult: Sendable {
        var seenGroups: Set<String>
        var ignoredMembers: [String: Int]
        var deltaLink: String
    }

    /// Reads every group with its members in one `/groups/delta` round (fetching ahead as for users).
    ///
    /// ``GroupRoundAssembler`` decides when a group's membership is complete enough to write.
    private func readGroupRound(
        tenantID: String, token: RunReader, tally: RunTally, progress: @escaping @Sendable (SyncProgress) async -> Void
    ) async throws -> GroupRoundResult {
        let first = graph.url("/groups/delta?$select=displayName,mail,members")
        var assembler = GroupRoundAssembler()
        var deltaLink: String?
        try await forEachPage(first, GraphGroup.self, token: token) { page, _ in
            let batch = assembler.add(page.value, isLastPage: page.nextLink == nil)
            if page.nextLink == nil { deltaLink = page.deltaLink }
            let counts = try await store.applyDirectoryBatch(tenantID: tenantID, batch: batch, at: now())
            try await tally.add(counts, pages: 1, store: store, progress: progress, phase: "groups")
        }
        guard let deltaLink else { throw malformed("a groups delta round without @odata.deltaLink", url: first) }
        return GroupRoundResult(seenGroups: assembler.seenGroups, ignoredMembers: assembler.ignoredMembers, deltaLink: deltaLink)
    }

    /// Says how many group members of kinds tenantsync does not protect (contacts, devices, ...) a run skipped.
    private func logIgnoredMembers(_ ignored: [String: Int], run: SyncRun) {
        guard !ignored.isEmpty else { return }
        logger.info(
            "Group members that are neither users nor groups were not stored",
            metadata: [
                "tenant.id": "\(run.tenantID)", "sync.run": "\(run.id)",
                "sync.ignored_members": "\(ignored.values.reduce(0, +))",
                "sync.ignored_member_types": "\(ignored.keys.sorted().joined(separator: ","))",
            ]
        )
    }

    /// Calls `body` with each page of a collection while the next page is already being fetched.
    private func forEachPage<Item: Decodable & Sendable>(
        _ first: String, _ type: Item.Type, token: RunReader, _ body: (GraphPage<Item>, String) async throws -> Void
    ) async throws {
        var url = first
        var trail = GraphPageTrail(first: first, maximumPages: settings.maximumPagesPerRead)
        var page = try await fetch(url, type, token: token)
        while true {
            let nextURL = try trail.next(after: page.nextLink, from: url)
            async let prefetched = fetchIfAny(nextURL, type, token: token)
            try await body(page, url)
            guard let nextURL, let next = try await prefetched else { return }
            url = nextURL
            page = next
        }
    }

    private func fetchIfAny<Item: Decodable & Sendable>(_ url: String?, _ type: Item.Type, token: RunReader) async throws -> GraphPage<Item>? {
        guard let url else { return nil }
        return try await fetch(url, type, token: token)
    }

    private func latestDeltaLink(_ path: String, token: RunReader) async throws -> String {
        var next: String? = graph.url(path)
        var trail = GraphPageTrail(first: graph.url(path), maximumPages: settings.maximumPagesPerRead)
        while let url = next {
            let page = try await fetch(url, GraphDirectoryObject.self, token: token)
            if let deltaLink = page.deltaLink { return deltaLink }
            next = try trail.next(after: page.nextLink, from: url)
        }
        throw malformed("a delta round without @odata.deltaLink", url: graph.url(path))
    }

    // MARK: Delta

    private func performDelta(run: SyncRun, links: [String: String], progress: @escaping @Sendable (SyncProgress) async -> Void) async throws {
        let tenantID = run.tenantID
        let token = RunReader(tenantID: tenantID, source: tokens, budget: RunReadBudget(limit: settings.maximumObjectsPerRun))
        let tally = RunTally(run: run, now: now)
        let usersBefore = try await store.directoryUserIDs(tenantID: tenantID)
        var removedUsers = Set<String>()
        var removedGroups = Set<String>()
        var newLinks: [String: String] = [:]
        var ignoredMembers: [String: Int] = [:]

        var next: String? = links["users"]
        var trail = GraphPageTrail(first: links["users"]!, maximumPages: settings.maximumPagesPerRead)
        while let url = next {
            let page = try await fetch(url, GraphUser.self, token: token)
            var batch = DirectoryBatch()
            for user in page.value {
                if user.removed != nil {
                    // Both reasons take the user out of protection: `changed` is a soft delete.
                    removedUsers.insert(user.id)
                    continue
                }
                removedUsers.remove(user.id)
                guard let upn = user.userPrincipalName else {
                    throw malformed("a changed user without userPrincipalName", url: url)
                }
                batch.upsertedUsers.append(DirectoryUser(
                    id: user.id, userPrincipalName: upn, displayName: user.displayName, mail: user.mail, accountEnabled: user.accountEnabled ?? true
                ))
            }
            let counts = try await store.applyDirectoryBatch(tenantID: tenantID, batch: batch, at: now())
            try await tally.add(counts, pages: 1, store: store, progress: progress, phase: "users")
            if let deltaLink = page.deltaLink { newLinks["users"] = deltaLink }
            next = try trail.next(after: page.nextLink, from: url)
        }
        guard newLinks["users"] != nil else { throw malformed("a users delta round without @odata.deltaLink", url: links["users"]!) }

        next = links["groups"]
        trail = GraphPageTrail(first: links["groups"]!, maximumPages: settings.maximumPagesPerRead)
        while let url = next {
            let page = try await fetch(url, GraphGroup.self, token: token)
            var batch = DirectoryBatch()
            for group in page.value {
                if group.removed != nil {
                    removedGroups.insert(group.id)
                    continue
                }
                removedGroups.remove(group.id)
                if group.displayName != nil || group.mail != nil {
                    batch.upsertedGroups.append(DirectoryGroup(id: group.id, displayName: group.displayName, mail: group.mail))
                }
                for member in group.membersDelta ?? [] {
                    guard let type = Self.protectedMemberType(member.odataType) else {
                        ignoredMembers[member.odataType ?? "unknown", default: 0] += 1
                        continue
                    }
                    let membership = GroupMembership(groupID: group.id, memberID: member.id, memberType: type)
                    if member.removed != nil {
                        batch.removedMemberships.append(membership)
                    } else {
                        batch.addedMemberships.append(membership)
                    }
                }
            }
            let counts = try await store.applyDirectoryBatch(tenantID: tenantID, batch: batch, at: now())
            try await tally.add(counts, pages: 1, store: store, progress: progress, phase: "groups")
            if let deltaLink = page.deltaLink { newLinks["groups"] = deltaLink }
            next = try trail.next(after: page.nextLink, from: url)
        }
        guard newLinks["groups"] != nil else { throw malformed("a groups delta round without @odata.deltaLink", url: links["groups"]!) }
        logIgnoredMembers(ignoredMembers, run: run)

        try await commitEnd(
            run: run, tally: tally, removedUsers: removedUsers.intersection(usersBefore).sorted(), removedGroups: removedGroups.sorted(),
            userCountBefore: usersBefore.count, links: newLinks, progress: progress
        )
    }

    // MARK: End of a run

    /// Applies removals and links in one transaction, or holds them when too many users would go.
    private func commitEnd(
        run: SyncRun, tally: RunTally, removedUsers: [String], removedGroups: [String], userCountBefore: Int,
        links: [String: String], progress: @escaping @Sendable (SyncProgress) async -> Void
    ) async throws {
        // Read once: the decision and the alert name the same threshold even if a reload lands meanwhile.
        let threshold = settings.massDeletionThreshold
        let limit = Double(userCountBefore) * threshold
        if userCountBefore > 0, Double(removedUsers.count) > limit {
            try await store.recordSyncProgress(runID: run.id, pages: tally.pages, counts: tally.counts)
            // One held run per tenant: an older one describes an older directory and is superseded by this one.
            for older in try await store.heldSyncRuns(tenantID: run.tenantID) where older.id != run.id {
                try await store.discardHeldSyncRun(runID: older.id, at: now())
                try await store.setSyncRunNote(runID: older.id, note: "superseded by held run \(run.id)")
            }
            try await store.holdSyncRun(runID: run.id, removedUserIDs: removedUsers, removedGroupIDs: removedGroups, deltaLinks: links, at: now())
            let hold = MassDeletionHold(
                runID: run.id, tenantID: run.tenantID, removedUsers: removedUsers.count, removedGroups: removedGroups.count,
                usersBefore: userCountBefore, threshold: threshold
            )
            try await store.setSyncRunNote(runID: run.id, note: hold.note)
            if let alerts {
                let tenant = try await alerts.tenant(idOrDomain: run.tenantID)
                _ = try await alerts.enqueueAlert(hold.alert(tenantDomain: tenant?.domain), channels: alertChannels, at: now())
            }
            logger.warning(
                "Sync held by the mass-deletion guard",
                metadata: [
                    "message.id": "\(MessageID.massDeletionHeld)", "tenant.id": "\(run.tenantID)", "sync.run": "\(run.id)",
                    "sync.removals": "\(removedUsers.count)", "sync.users": "\(userCountBefore)",
                    "sync.removed_share": "\(hold.percent(hold.share))", "sync.threshold": "\(hold.percent(hold.threshold))",
                ]
            )
            await progress(tally.progress(phase: "held"))
            return
        }
        var batch = DirectoryBatch()
        batch.removedUserIDs = removedUsers
        batch.removedGroupIDs = removedGroups
        batch.deltaLinks = links
        tally.add(try await store.applyDirectoryBatch(tenantID: run.tenantID, batch: batch, at: now()))
        try await store.recordSyncProgress(runID: run.id, pages: tally.pages, counts: tally.counts)
        try await store.finishSyncRun(runID: run.id, state: .succeeded, error: nil, at: now())
        logger.info(
            "Sync finished",
            metadata: [
                "message.id": "\(MessageID.syncFinished)",
                "tenant.id": "\(run.tenantID)", "sync.run": "\(run.id)", "sync.mode": "\(run.mode.rawValue)", "sync.pages": "\(tally.pages)",
                "sync.users_added": "\(tally.counts.usersAdded)", "sync.users_changed": "\(tally.counts.usersChanged)",
                "sync.users_removed": "\(tally.counts.usersRemoved)",
            ]
        )
        await progress(tally.progress(phase: "done"))
    }

    // MARK: Helpers

    private func fetch<Item>(_ url: String, _ type: Item.Type, token: RunReader) async throws -> GraphPage<Item> {
        try Task.checkCancellation()
        let used = try await token.current()
        do {
            let page: GraphPage<Item>
            do {
                page = try await graph.page(url, as: type, accessToken: used)
            } catch let error as GraphError where error.kind == .unauthorized {
                // The token expired or was revoked mid-run: one fresh token, one more try (a 401 is not
                // metered). Concurrent requests that failed with the same token share one refresh.
                page = try await graph.page(url, as: type, accessToken: try await token.refreshed(replacing: used))
            }
            await meter?.graphCallMade(tenantID: token.tenantID)
            try token.budget.charge(page.value.count, url: url)
            return page
        } catch let error as GraphError where error.kind == .paymentRequired {
            await meter?.paymentRequired(tenantID: token.tenantID)
            throw error
        }
    }

    private func malformed(_ what: String, url: String) -> GraphError {
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

/// Counts and pages of a run in progress, shared by the run's concurrent readers.
///
/// The run's row is updated at most once a second while it runs (progress stays readable
/// without a second write transaction per page) and always at the end of the run.
private final class RunTally: Sendable {
    private struct State {
        var pages = 0
        var counts = DirectoryChangeCounts()
        var lastRecorded: Date?
    }

    let run: SyncRun
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    init(run: SyncRun, now: @escaping @Sendable () -> Date) {
        self.run = run
        self.now = now
    }

    var pages: Int { state.withLock { $0.pages } }
    var counts: DirectoryChangeCounts { state.withLock { $0.counts } }

    /// Adds what a batch changed without reporting it (the end of a run records it itself).
    func add(_ change: DirectoryChangeCounts) {
        state.withLock { $0.counts += change }
    }

    /// Adds what a batch changed, tells the observer, and records it in the run's row when a second has passed.
    func add(
        _ change: DirectoryChangeCounts, pages added: Int, store: any DirectoryStore,
        progress: @Sendable (SyncProgress) async -> Void, phase: String
    ) async throws {
        let current = now()
        let (snapshot, record) = state.withLock { state -> (SyncProgress, Bool) in
            state.counts += change
            state.pages += added
            let due = state.lastRecorded.map { current.timeIntervalSince($0) >= 1 || current < $0 } ?? true
            if due { state.lastRecorded = current }
            return (SyncProgress(runID: run.id, tenantID: run.tenantID, mode: run.mode, phase: phase, pages: state.pages, counts: state.counts), due)
        }
        if record { try await store.recordSyncProgress(runID: run.id, pages: snapshot.pages, counts: snapshot.counts) }
        await progress(snapshot)
    }

    func progress(phase: String) -> SyncProgress {
        state.withLock { SyncProgress(runID: run.id, tenantID: run.tenantID, mode: run.mode, phase: phase, pages: $0.pages, counts: $0.counts) }
    }
}

/// What a run's requests share: the access token, refreshed once per rejected token however many
/// requests saw it rejected, and the run's read budget.
private actor RunReader {
    let tenantID: String
    let source: any GraphTokenSource
    nonisolated let budget: RunReadBudget
    var token: Secret?
    /// Requests waiting for a refresh already under way.
    var waiting: [CheckedContinuation<Secret, any Error>]?

    init(tenantID: String, source: any GraphTokenSource, budget: RunReadBudget) {
        self.tenantID = tenantID
        self.source = source
        self.budget = budget
    }

    func current() async throws -> Secret {
        if let token { return token }
        let fresh = try await source.graphAccessToken(tenantID: tenantID, forceRefresh: false)
        token = fresh
        return fresh
    }

    /// A token other than `stale`: the one another request already fetched, or a fresh one.
    func refreshed(replacing stale: Secret) async throws -> Secret {
        if let token, token != stale { return token }
        if waiting != nil {
            return try await withCheckedThrowingContinuation { waiting?.append($0) }
        }
        waiting = []
        let result: Result<Secret, any Error>
        do {
            result = .success(try await source.graphAccessToken(tenantID: tenantID, forceRefresh: true))
        } catch {
            result = .failure(error)
        }
        if case .success(let fresh) = result { token = fresh }
        let waiters = waiting ?? []
        waiting = nil
        for waiter in waiters { waiter.resume(with: result) }
        return try result.get()
    }
}
