import Foundation
import Logging
import TenantSyncCore

/// The end of a run: removals and delta links committed together, or held by the mass-deletion guard.
extension DirectorySynchronizer {
    /// Applies removals and links in one transaction, or holds them when too many users would go.
    func commitEnd(
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
            // Under a sync lease, fenced like every batch of the run: a node that lost the tenant holds nothing.
            if let fence {
                try await fence.store.holdSyncRun(
                    runID: run.id, tenantID: run.tenantID, removedUserIDs: removedUsers, removedGroupIDs: removedGroups, deltaLinks: links,
                    at: now(), under: fence.lease
                )
            } else {
                try await store.holdSyncRun(runID: run.id, removedUserIDs: removedUsers, removedGroupIDs: removedGroups, deltaLinks: links, at: now())
            }
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
        tally.add(try await apply(batch, tenantID: run.tenantID))
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
}
