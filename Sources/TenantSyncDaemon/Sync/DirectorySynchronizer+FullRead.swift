import Foundation
import Logging
import MicrosoftCloud
import TenantSyncCore

/// The full read: every user, and every group with its members in one `/groups/delta` round.
extension DirectorySynchronizer {
    func performFull(run: SyncRun, progress: @escaping @Sendable (SyncProgress) async -> Void) async throws {
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
    func readUsers(
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
            // A first sync is paced at the smallest size class until the users are counted: the pages tell sooner.
            graph.learnedUsers(atLeast: seen.count + (page.nextLink == nil ? 0 : 1))
            guard batch.upsertedUsers.count >= settings.usersPerTransaction || page.nextLink == nil else { return }
            let counts = try await apply(batch, tenantID: tenantID)
            try await tally.add(counts, pages: pages, store: store, progress: progress, phase: "users")
            batch = DirectoryBatch()
            pages = 0
        }
        return seen
    }

    /// What a full group round read.
    struct GroupRoundResult: Sendable {
        var seenGroups: Set<String>
        var ignoredMembers: [String: Int]
        var deltaLink: String
    }

    /// Reads every group with its members in one `/groups/delta` round (fetching ahead as for users).
    ///
    /// ``MembershipWindow`` decides what each page writes and what comes next; this does the IO it asks for.
    func readGroupRound(
        tenantID: String, token: RunReader, tally: RunTally, progress: @escaping @Sendable (SyncProgress) async -> Void
    ) async throws -> GroupRoundResult {
        let first = graph.url("/groups/delta?$select=displayName,mail,members")
        var window = MembershipWindow(first: first, maximumPages: settings.maximumPagesPerRead)
        let write = { (batch: DirectoryBatch) in
            let counts = try await apply(batch, tenantID: tenantID)
            try await tally.add(counts, pages: 1, store: store, progress: progress, phase: "groups")
        }
        var url = first
        var page = try await fetch(url, GraphGroup.self, token: token)
        while true {
            switch try window.received(page, from: url) {
            case .write(let batch, let next):
                async let prefetched = fetch(next, GraphGroup.self, token: token)
                try await write(batch)
                page = try await prefetched
                url = next
            case .finish(let batch, let deltaLink):
                try await write(batch)
                return GroupRoundResult(seenGroups: window.seenGroups, ignoredMembers: window.ignoredMembers, deltaLink: deltaLink)
            case .finishWithoutDeltaLink(let batch):
                try await write(batch)
                throw malformed("a groups delta round without @odata.deltaLink", url: first)
            }
        }
    }

    /// Says how many group members of kinds tenantsync does not protect (contacts, devices, ...) a run skipped.
    func logIgnoredMembers(_ ignored: [String: Int], run: SyncRun) {
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
    func forEachPage<Item: Decodable & Sendable>(
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

    func fetchIfAny<Item: Decodable & Sendable>(_ url: String?, _ type: Item.Type, token: RunReader) async throws -> GraphPage<Item>? {
        guard let url else { return nil }
        return try await fetch(url, type, token: token)
    }

    func latestDeltaLink(_ path: String, token: RunReader) async throws -> String {
        var next: String? = graph.url(path)
        var trail = GraphPageTrail(first: graph.url(path), maximumPages: settings.maximumPagesPerRead)
        while let url = next {
            let page = try await fetch(url, GraphDirectoryObject.self, token: token)
            if let deltaLink = page.deltaLink { return deltaLink }
            next = try trail.next(after: page.nextLink, from: url)
        }
        throw malformed("a delta round without @odata.deltaLink", url: graph.url(path))
    }
}
