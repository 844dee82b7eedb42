import Foundation
import MicrosoftCloud
import TenantSyncCore

/// The delta read: the changes since the stored users and groups delta links.
///
/// Its cost follows the changes, not the directory: the users before are counted in the store, and only the
/// users the round reads as removed are looked up there. The users and groups rounds are independent and run at
/// once (each fetching its next page while the current one is written), paced in the tenant's budget like any
/// request of the run; the store serializes their transactions.
extension DirectorySynchronizer {
    func performDelta(run: SyncRun, links: [String: String], progress: @escaping @Sendable (SyncProgress) async -> Void) async throws {
        let tenantID = run.tenantID
        let token = RunReader(tenantID: tenantID, source: tokens, budget: RunReadBudget(limit: settings.maximumObjectsPerRun))
        let tally = RunTally(run: run, now: now)
        // Counted before either round writes: the mass-deletion guard compares the removals with the directory as it was.
        let userCountBefore = try await store.directoryUserCount(tenantID: tenantID)

        async let groupRound = readGroupDelta(tenantID: tenantID, first: links["groups"]!, token: token, tally: tally, progress: progress)
        let userRound = try await readUserDelta(tenantID: tenantID, first: links["users"]!, token: token, tally: tally, progress: progress)
        let groups = try await groupRound
        logIgnoredMembers(groups.ignoredMembers, run: run)

        // Removals of users the store never held (created and deleted between two runs) are no removals.
        let removedUsers = try await store.storedUserIDs(tenantID: tenantID, among: userRound.removed)
        try await commitEnd(
            run: run, tally: tally, removedUsers: removedUsers.sorted(), removedGroups: groups.removed.sorted(),
            userCountBefore: userCountBefore, links: ["users": userRound.deltaLink, "groups": groups.deltaLink], progress: progress
        )
    }

    /// What one delta round read: the objects it removed (last seen as removed), its new link, skipped member kinds.
    struct DeltaRoundResult: Sendable {
        var removed: Set<String> = []
        var deltaLink: String
        var ignoredMembers: [String: Int] = [:]
    }

    func readUserDelta(
        tenantID: String, first: String, token: RunReader, tally: RunTally, progress: @escaping @Sendable (SyncProgress) async -> Void
    ) async throws -> DeltaRoundResult {
        var removed = Set<String>()
        var deltaLink: String?
        try await forEachPage(first, GraphUser.self, token: token) { page, url in
            var batch = DirectoryBatch()
            for user in page.value {
                if user.removed != nil {
                    // Both reasons take the user out of protection: `changed` is a soft delete.
                    removed.insert(user.id)
                    continue
                }
                removed.remove(user.id)
                guard let upn = user.userPrincipalName else {
                    throw malformed("a changed user without userPrincipalName", url: url)
                }
                batch.upsertedUsers.append(DirectoryUser(
                    id: user.id, userPrincipalName: upn, displayName: user.displayName, mail: user.mail, accountEnabled: user.accountEnabled ?? true
                ))
            }
            let counts = try await apply(batch, tenantID: tenantID)
            try await tally.add(counts, pages: 1, store: store, progress: progress, phase: "users")
            if let link = page.deltaLink { deltaLink = link }
        }
        guard let deltaLink else { throw malformed("a users delta round without @odata.deltaLink", url: first) }
        return DeltaRoundResult(removed: removed, deltaLink: deltaLink)
    }

    func readGroupDelta(
        tenantID: String, first: String, token: RunReader, tally: RunTally, progress: @escaping @Sendable (SyncProgress) async -> Void
    ) async throws -> DeltaRoundResult {
        var removed = Set<String>()
        var ignoredMembers: [String: Int] = [:]
        var deltaLink: String?
        try await forEachPage(first, GraphGroup.self, token: token) { page, _ in
            var batch = DirectoryBatch()
            for group in page.value {
                if group.removed != nil {
                    removed.insert(group.id)
                    continue
                }
                removed.remove(group.id)
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
            let counts = try await apply(batch, tenantID: tenantID)
            try await tally.add(counts, pages: 1, store: store, progress: progress, phase: "groups")
            if let link = page.deltaLink { deltaLink = link }
        }
        guard let deltaLink else { throw malformed("a groups delta round without @odata.deltaLink", url: first) }
        return DeltaRoundResult(removed: removed, deltaLink: deltaLink, ignoredMembers: ignoredMembers)
    }
}
