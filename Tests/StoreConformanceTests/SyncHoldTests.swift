import Foundation
import TenantSyncCore
import Testing

/// Runs held by the mass-deletion guard, interrupted runs and the outbox's operator actions, alike on both stores.
@Suite("Sync holds, interrupted runs, outbox actions")
struct SyncHoldTests {
    @Test(arguments: StoreKind.allCases) func aHeldRunKeepsItsRemovalsUntilConfirmedOrDiscarded(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let store = fixture.store
            let tenant = try await store.upsertTenant(id: UUID().uuidString, domain: "contoso.com", displayName: nil)
            let at = Date(timeIntervalSince1970: 1_800_000_000)
            var batch = DirectoryBatch()
            batch.upsertedUsers = ["u1", "u2", "u3"].map { DirectoryUser(id: $0, userPrincipalName: "\($0)@contoso.com", displayName: nil, mail: nil, accountEnabled: true) }
            batch.upsertedGroups = [DirectoryGroup(id: "g1", displayName: "G", mail: nil)]
            batch.addedMemberships = [GroupMembership(groupID: "g1", memberID: "u1", memberType: .user)]
            batch.deltaLinks = ["users": "old-users"]
            try await store.applyDirectoryBatch(tenantID: tenant.id, batch: batch, at: at)

            let run = try await store.startSyncRun(tenantID: tenant.id, service: nil, trigger: .daily, mode: .delta, at: at)
            var counts = DirectoryChangeCounts()
            counts.usersAdded = 4
            try await store.recordSyncProgress(runID: run.id, pages: 2, counts: counts)
            try await store.holdSyncRun(runID: run.id, removedUserIDs: ["u1", "u2", "u1"], removedGroupIDs: ["g1"], deltaLinks: ["users": "new-users"], at: at + 5)
            #expect(try await store.syncRun(id: run.id)?.state == .held)
            #expect(try await store.heldSyncRuns(tenantID: tenant.id).map(\.id) == [run.id])
            #expect(try await store.heldSyncRunsOfAllTenants().map(\.id) == [run.id])
            #expect(try await store.heldSyncRunsOfAllTenants(limit: 0).isEmpty)
            #expect(try await store.heldSyncRunsOfAllTenants(limit: 1).map(\.id) == [run.id])
            #expect(try await store.heldSyncRunCount() == 1)
            #expect(try await store.directoryUserIDs(tenantID: tenant.id) == ["u1", "u2", "u3"], "nothing removed while held")
            #expect(try await store.deltaLink(tenantID: tenant.id, resource: "users") == "old-users", "the held link waits too")

            let removed = try await store.confirmHeldSyncRun(runID: run.id, at: at + 60)
            #expect(removed.usersRemoved == 2 && removed.groupsRemoved == 1 && removed.membershipsRemoved == 1, "\(removed)")
            let confirmed = try #require(try await store.syncRun(id: run.id))
            #expect(confirmed.state == .succeeded && confirmed.finishedAt == at + 60 && confirmed.counts.usersAdded == 4 && confirmed.counts.usersRemoved == 2)
            #expect(try await store.directoryUserIDs(tenantID: tenant.id) == ["u3"])
            #expect(try await store.directoryGroupIDs(tenantID: tenant.id).isEmpty)
            #expect(try await store.deltaLink(tenantID: tenant.id, resource: "users") == "new-users")
            #expect(try await store.heldSyncRunsOfAllTenants().isEmpty)
            #expect(try await store.heldSyncRunCount() == 0)
            let again = await #expect(throws: TenantSyncError.self) { try await store.confirmHeldSyncRun(runID: run.id, at: at + 61) }
            #expect(again?.code == .invalidArgument)

            let second = try await store.startSyncRun(tenantID: tenant.id, service: nil, trigger: .daily, mode: .delta, at: at + 100)
            try await store.holdSyncRun(runID: second.id, removedUserIDs: ["u3"], removedGroupIDs: [], deltaLinks: [:], at: at + 101)
            try await store.discardHeldSyncRun(runID: second.id, at: at + 120)
            let discarded = try #require(try await store.syncRun(id: second.id))
            #expect(discarded.state == .failed && discarded.error == "held removals discarded by an operator")
            #expect(try await store.directoryUserIDs(tenantID: tenant.id) == ["u3"])
            await #expect(throws: TenantSyncError.self) { try await store.discardHeldSyncRun(runID: second.id, at: at + 121) }
        }
    }

    @Test(arguments: StoreKind.allCases) func runningRunsFailAsInterruptedAndTheNoteIsKept(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let store = fixture.store
            let tenant = try await store.upsertTenant(id: UUID().uuidString, domain: "contoso.com", displayName: nil)
            let at = Date(timeIntervalSince1970: 1_800_000_000)
            let done = try await store.startSyncRun(tenantID: tenant.id, service: nil, trigger: .daily, mode: .full, at: at)
            try await store.finishSyncRun(runID: done.id, state: .succeeded, error: nil, at: at + 1)
            let running = try await store.startSyncRun(tenantID: tenant.id, service: .onedrive, trigger: .manual, mode: .delta, at: at + 2)
            try await store.setSyncRunNote(runID: running.id, note: "paced")
            #expect(try await store.failInterruptedSyncRuns(at: at + 3) == 1)
            let failed = try #require(try await store.syncRun(id: running.id))
            #expect(failed.state == .failed && failed.finishedAt == at + 3 && failed.note == "paced" && failed.error?.hasPrefix("interrupted") == true)
            #expect(try await store.lastSuccessfulSyncRun(tenantID: tenant.id)?.id == done.id)
            #expect(try await store.failInterruptedSyncRuns(at: at + 4) == 0)
        }
    }

    @Test(arguments: StoreKind.allCases) func pendingDeliveriesAreRetriedOrDiscardedPerChannel(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
            let store = fixture.store
            let at = Date(timeIntervalSince1970: 1_800_000_000)
            let one = try await store.enqueueAlert(NewAlert(kind: "k", severity: .info, subject: "s", body: "b"), channels: ["smtp", "journal"], at: at)
            let two = try await store.enqueueAlert(NewAlert(kind: "k", severity: .info, subject: "s", body: "b"), channels: ["smtp"], at: at)
            try await store.markDeliveryFailed(alertID: one.id, channel: "smtp", error: "refused", nextAttemptAt: at + 300)
            try await store.markDeliveryFailed(alertID: two.id, channel: "smtp", error: "refused", nextAttemptAt: at + 600)
            #expect(try await store.dueDeliveries(at: at + 10, limit: 10).map(\.channel) == ["journal"])
            #expect(try await store.retryPendingDeliveries(channel: "smtp", at: at + 10) == 2)
            #expect(try await store.dueDeliveries(at: at + 10, limit: 10).map { "\($0.alertID):\($0.channel)" } == ["\(one.id):journal", "\(one.id):smtp", "\(two.id):smtp"])
            #expect(try await store.retryPendingDeliveries(channel: "smtp", at: at + 10) == 0, "nothing later than now is left")
            try await store.discardPendingDelivery(alertID: one.id, channel: "journal")
            #expect(try await store.deliveries(alertID: one.id).map(\.channel) == ["smtp"])
            try await store.markDelivered(alertID: two.id, channel: "smtp", at: at + 20)
            #expect(try await store.discardPendingDeliveries(channel: "smtp") == 1, "the delivered one stays")
            #expect(try await store.nextDeliveryDate() == nil)
            #expect(try await store.deliveries(alertID: two.id).map(\.state) == [.delivered])
        }
    }
}
