import Foundation
import Logging
import MicrosoftCloud
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
        /// Group member listings fetched at once during a full sync.
        public var membershipConcurrency: Int
        /// Groups whose members are written in one transaction.
        public var groupsPerTransaction: Int

        public init(massDeletionThreshold: Double = 0.2, membershipConcurrency: Int = 8, groupsPerTransaction: Int = 200) {
            self.massDeletionThreshold = massDeletionThreshold
            self.membershipConcurrency = membershipConcurrency
            self.groupsPerTransaction = groupsPerTransaction
        }
    }

    /// How a run ended.
    public enum Outcome: Sendable, Equatable {
        case succeeded
        /// Held by the mass-deletion guard; `removals` users would go.
        case held(removals: Int, of: Int)
    }

    static let userFields = "id,userPrincipalName,displayName,mail,accountEnabled"
    static let groupFields = "id,displayName,mail"

    let store: any DirectoryStore
    let graph: GraphClient
    let tokens: any GraphTokenSource
    let settings: Settings
    /// Where a held run's alert goes; `nil` only where no outbox exists (benchmarks).
    let alerts: (any AccountStore & AlertStore)?
    let alertChannels: [String]
    let now: @Sendable () -> Date
    let logger: Logger

    public init(
        store: any DirectoryStore, graph: GraphClient, tokens: any GraphTokenSource, settings: Settings,
        alerts: (any AccountStore & AlertStore)? = nil, alertChannels: [String] = ["journal"],
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.store = store
        self.graph = graph
        self.tokens = tokens
        self.settings = settings
        self.alerts = alerts
        self.alertChannels = alertChannels
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
        let links = forceFull ? [:] : [
            "users": try await store.deltaLink(tenantID: tenantID, resource: "users"),
            "groups": try await store.deltaLink(tenantID: tenantID, resource: "groups"),
        ].compactMapValues { $0 }
        if links.count == 2 {
            let run = try await store.startSyncRun(tenantID: tenantID, service: service, trigger: trigger, mode: .delta, at: now())
            do {
                try await performDelta(run: run, links: links, progress: progress)
                return try await store.syncRun(id: run.id) ?? run
            } catch let error as GraphError where error.kind == .deltaReset {
                let reason = "Microsoft reset the delta state (HTTP 410); falling back to a full sync"
                try await store.finishSyncRun(runID: run.id, state: .failed, error: reason, at: now())
                try await store.clearDeltaLinks(tenantID: tenantID)
                logger.warning("Delta sync reset by Microsoft; running a full sync", metadata: ["tenant.id": "\(tenantID)", "sync.run": "\(run.id)"])
                let full = try await store.startSyncRun(tenantID: tenantID, service: service, trigger: trigger, mode: .full, at: now())
                try await store.setSyncRunNote(runID: full.id, note: "full sync after a delta reset (HTTP 410) in run \(run.id)")
                return try await finish(full) { try await performFull(run: full, progress: progress) }
            } catch {
                try await fail(run, error)
                throw error
            }
        }
        let run = try await store.startSyncRun(tenantID: tenantID, service: service, trigger: trigger, mode: .full, at: now())
        return try await finish(run) { try await performFull(run: run, progress: progress) }
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
        logger.error("Sync failed", metadata: ["tenant.id": "\(run.tenantID)", "sync.run": "\(run.id)", "sync.error": "\(message)"])
    }

    // MARK: Full

    private func performFull(run: SyncRun, progress: @escaping @Sendable (SyncProgress) async -> Void) async throws {
        let tenantID = run.tenantID
        let token = TokenHolder(tenantID: tenantID, source: tokens)
        var tally = Tally(run: run)

        // Take the delta position first: whatever changes while we read is replayed by the next delta run.
        let usersLink = try await latestDeltaLink("/users/delta?$select=\(Self.userFields)&$deltatoken=latest", token: token)
        let groupsLink = try await latestDeltaLink("/groups/delta?$select=displayName,mail,members&$deltatoken=latest", token: token)
        let usersBefore = try await store.directoryUserIDs(tenantID: tenantID)
        let groupsBefore = try await store.directoryGroupIDs(tenantID: tenantID)

        var seenUsers = Set<String>()
        var next: String? = graph.url("/users?$select=\(Self.userFields)&$top=999")
        while let url = next {
            let page = try await fetch(url, GraphUser.self, token: token)
            var batch = DirectoryBatch()
            for user in page.value {
                guard let upn = user.userPrincipalName else {
                    throw malformed("a user without userPrincipalName", url: url)
                }
                seenUsers.insert(user.id)
                batch.upsertedUsers.append(DirectoryUser(
                    id: user.id, userPrincipalName: upn, displayName: user.displayName, mail: user.mail, accountEnabled: user.accountEnabled ?? true
                ))
            }
            tally.add(try await store.applyDirectoryBatch(tenantID: tenantID, batch: batch, at: now()), page: true)
            try await tally.report(store, progress, phase: "users")
            next = page.nextLink
        }

        var groupIDs: [String] = []
        next = graph.url("/groups?$select=\(Self.groupFields)&$top=999")
        while let url = next {
            let page = try await fetch(url, GraphGroup.self, token: token)
            var batch = DirectoryBatch()
            for group in page.value {
                groupIDs.append(group.id)
                batch.upsertedGroups.append(DirectoryGroup(id: group.id, displayName: group.displayName, mail: group.mail))
            }
            tally.add(try await store.applyDirectoryBatch(tenantID: tenantID, batch: batch, at: now()), page: true)
            try await tally.report(store, progress, phase: "groups")
            next = page.nextLink
        }
        let seenGroups = Set(groupIDs)

        // Direct members of every group, a bounded number of listings at once.
        var start = 0
        while start < groupIDs.count {
            let chunk = Array(groupIDs[start..<min(start + settings.groupsPerTransaction, groupIDs.count)])
            start += chunk.count
            let (members, pages) = try await fetchMembers(of: chunk, token: token)
            var batch = DirectoryBatch()
            batch.replacedMembershipsOfGroups = members
            tally.add(try await store.applyDirectoryBatch(tenantID: tenantID, batch: batch, at: now()), pages: pages)
            try await tally.report(store, progress, phase: "memberships")
        }

        let removedUsers = usersBefore.subtracting(seenUsers).sorted()
        let removedGroups = groupsBefore.subtracting(seenGroups).sorted()
        try await commitEnd(
            run: run, tally: &tally, removedUsers: removedUsers, removedGroups: removedGroups, userCountBefore: usersBefore.count,
            links: ["users": usersLink, "groups": groupsLink], progress: progress
        )
    }

    private func latestDeltaLink(_ path: String, token: TokenHolder) async throws -> String {
        var next: String? = graph.url(path)
        while let url = next {
            let page = try await fetch(url, GraphDirectoryObject.self, token: token)
            if let deltaLink = page.deltaLink { return deltaLink }
            next = page.nextLink
        }
        throw malformed("a delta round without @odata.deltaLink", url: graph.url(path))
    }

    private func fetchMembers(of groups: [String], token: TokenHolder) async throws -> ([String: [GroupMembership]], Int) {
        try await withThrowingTaskGroup(of: (String, [GroupMembership], Int).self) { taskGroup in
            var result: [String: [GroupMembership]] = [:]
            var pages = 0
            var iterator = groups.makeIterator()
            func addNext() {
                guard let groupID = iterator.next() else { return }
                taskGroup.addTask {
                    var memberships: [GroupMembership] = []
                    var count = 0
                    var next: String? = graph.url("/groups/\(groupID)/members?$select=id&$top=999")
                    while let url = next {
                        let page = try await fetch(url, GraphDirectoryObject.self, token: token)
                        count += 1
                        memberships += page.value.map {
                            GroupMembership(groupID: groupID, memberID: $0.id, memberType: Self.memberType($0.odataType))
                        }
                        next = page.nextLink
                    }
                    return (groupID, memberships, count)
                }
            }
            for _ in 0..<max(settings.membershipConcurrency, 1) { addNext() }
            while let (groupID, memberships, count) = try await taskGroup.next() {
                result[groupID] = memberships
                pages += count
                addNext()
            }
            return (result, pages)
        }
    }

    // MARK: Delta

    private func performDelta(run: SyncRun, links: [String: String], progress: @escaping @Sendable (SyncProgress) async -> Void) async throws {
        let tenantID = run.tenantID
        let token = TokenHolder(tenantID: tenantID, source: tokens)
        var tally = Tally(run: run)
        let usersBefore = try await store.directoryUserIDs(tenantID: tenantID)
        var removedUsers = Set<String>()
        var removedGroups = Set<String>()
        var newLinks: [String: String] = [:]

        var next: String? = links["users"]
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
            tally.add(try await store.applyDirectoryBatch(tenantID: tenantID, batch: batch, at: now()), page: true)
            try await tally.report(store, progress, phase: "users")
            if let deltaLink = page.deltaLink { newLinks["users"] = deltaLink }
            next = page.nextLink
        }
        guard newLinks["users"] != nil else { throw malformed("a users delta round without @odata.deltaLink", url: links["users"]!) }

        next = links["groups"]
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
                    let membership = GroupMembership(groupID: group.id, memberID: member.id, memberType: Self.memberType(member.odataType))
                    if member.removed != nil {
                        batch.removedMemberships.append(membership)
                    } else {
                        batch.addedMemberships.append(membership)
                    }
                }
            }
            tally.add(try await store.applyDirectoryBatch(tenantID: tenantID, batch: batch, at: now()), page: true)
            try await tally.report(store, progress, phase: "groups")
            if let deltaLink = page.deltaLink { newLinks["groups"] = deltaLink }
            next = page.nextLink
        }
        guard newLinks["groups"] != nil else { throw malformed("a groups delta round without @odata.deltaLink", url: links["groups"]!) }

        try await commitEnd(
            run: run, tally: &tally, removedUsers: removedUsers.intersection(usersBefore).sorted(), removedGroups: removedGroups.sorted(),
            userCountBefore: usersBefore.count, links: newLinks, progress: progress
        )
    }

    // MARK: End of a run

    /// Applies removals and links in one transaction, or holds them when too many users would go.
    private func commitEnd(
        run: SyncRun, tally: inout Tally, removedUsers: [String], removedGroups: [String], userCountBefore: Int,
        links: [String: String], progress: @escaping @Sendable (SyncProgress) async -> Void
    ) async throws {
        let limit = Double(userCountBefore) * settings.massDeletionThreshold
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
                usersBefore: userCountBefore, threshold: settings.massDeletionThreshold
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
        tally.add(try await store.applyDirectoryBatch(tenantID: run.tenantID, batch: batch, at: now()), page: false)
        try await store.recordSyncProgress(runID: run.id, pages: tally.pages, counts: tally.counts)
        try await store.finishSyncRun(runID: run.id, state: .succeeded, error: nil, at: now())
        logger.info(
            "Sync finished",
            metadata: [
                "tenant.id": "\(run.tenantID)", "sync.run": "\(run.id)", "sync.mode": "\(run.mode.rawValue)", "sync.pages": "\(tally.pages)",
                "sync.users_added": "\(tally.counts.usersAdded)", "sync.users_changed": "\(tally.counts.usersChanged)",
                "sync.users_removed": "\(tally.counts.usersRemoved)",
            ]
        )
        await progress(tally.progress(phase: "done"))
    }

    // MARK: Helpers

    private func fetch<Item>(_ url: String, _ type: Item.Type, token: TokenHolder) async throws -> GraphPage<Item> {
        try Task.checkCancellation()
        do {
            return try await graph.page(url, as: type, accessToken: try await token.current())
        } catch let error as GraphError where error.kind == .unauthorized {
            // The token expired or was revoked mid-run: one fresh token, one more try.
            return try await graph.page(url, as: type, accessToken: try await token.refreshed())
        }
    }

    private func malformed(_ what: String, url: String) -> GraphError {
        GraphError(
            kind: .malformedResponse, status: 200, code: nil, message: "Graph returned \(what)", requestID: nil, retryAfter: nil,
            path: URLComponents(string: url)?.path ?? "?"
        )
    }

    static func memberType(_ odataType: String?) -> GroupMembership.MemberType {
        switch odataType {
        case "#microsoft.graph.user": .user
        case "#microsoft.graph.group": .group
        default: .other
        }
    }
}

/// Counts and pages of a run in progress.
private struct Tally {
    let run: SyncRun
    var pages = 0
    var counts = DirectoryChangeCounts()

    init(run: SyncRun) { self.run = run }

    mutating func add(_ change: DirectoryChangeCounts, page: Bool) {
        counts += change
        if page { pages += 1 }
    }

    mutating func add(_ change: DirectoryChangeCounts, pages added: Int) {
        counts += change
        pages += added
    }

    func progress(phase: String) -> SyncProgress {
        SyncProgress(runID: run.id, tenantID: run.tenantID, mode: run.mode, phase: phase, pages: pages, counts: counts)
    }

    func report(_ store: any DirectoryStore, _ progress: @Sendable (SyncProgress) async -> Void, phase: String) async throws {
        try await store.recordSyncProgress(runID: run.id, pages: pages, counts: counts)
        await progress(self.progress(phase: phase))
    }
}

/// The access token a run uses, refreshed at most once per 401.
private actor TokenHolder {
    let tenantID: String
    let source: any GraphTokenSource
    var token: Secret?

    init(tenantID: String, source: any GraphTokenSource) {
        self.tenantID = tenantID
        self.source = source
    }

    func current() async throws -> Secret {
        if let token { return token }
        let fresh = try await source.graphAccessToken(tenantID: tenantID, forceRefresh: false)
        token = fresh
        return fresh
    }

    func refreshed() async throws -> Secret {
        let fresh = try await source.graphAccessToken(tenantID: tenantID, forceRefresh: true)
        token = fresh
        return fresh
    }
}
