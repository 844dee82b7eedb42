import Foundation
import MicrosoftCloud
import TenantSyncCore

/// The delta read: the changes since the stored users and groups delta links.
extension DirectorySynchronizer {
    func performDelta(run: SyncRun, links: [String: String], progress: @escaping @Sendable (SyncProgress) async -> Void) async throws {
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
}
