import Foundation
import TenantSyncCore
import Testing
@testable import TenantSyncStore
import TenantSyncCore

/// Directory, selected targets, sync runs and alerts: the same round trips on both stores
/// (moved from TenantSyncStoreTests/RoundTripTests.swift).
@Suite("Store round trips: directory, runs, alerts")
struct DirectoryAlertRoundTripTests {
    @Test(arguments: StoreKind.allCases) func directoryBatchesCountAddsChangesAndRemovals(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
        let tenant = try await fixture.store.upsertTenant(id: UUID().uuidString, domain: "contoso.com", displayName: nil)
        var batch = DirectoryBatch()
        batch.upsertedUsers = [
            DirectoryUser(id: "u1", userPrincipalName: "adele@contoso.com", displayName: "Adele", mail: "adele@contoso.com", accountEnabled: true),
            DirectoryUser(id: "u2", userPrincipalName: "bob@contoso.com", displayName: "Bob", mail: nil, accountEnabled: false),
        ]
        batch.upsertedGroups = [DirectoryGroup(id: "g1", displayName: "Finance", mail: nil), DirectoryGroup(id: "g2", displayName: "All", mail: nil)]
        batch.replacedMembershipsOfGroups = [
            "g1": [GroupMembership(groupID: "g1", memberID: "u1", memberType: .user)],
            "g2": [GroupMembership(groupID: "g2", memberID: "g1", memberType: .group), GroupMembership(groupID: "g2", memberID: "u2", memberType: .user)],
        ]
        batch.deltaLinks = ["users": "https://graph/users/delta?$deltatoken=a"]
        let first = try await fixture.store.applyDirectoryBatch(tenantID: tenant.id, batch: batch, at: .now)
        #expect(first.usersAdded == 2 && first.groupsAdded == 2 && first.membershipsAdded == 3)
        #expect(try await fixture.store.deltaLink(tenantID: tenant.id, resource: "users") == "https://graph/users/delta?$deltatoken=a")

        let unchanged = try await fixture.store.applyDirectoryBatch(tenantID: tenant.id, batch: batch, at: .now)
        #expect(unchanged == DirectoryChangeCounts(), "re-applying the same data changes nothing")

        var next = DirectoryBatch()
        next.upsertedUsers = [DirectoryUser(id: "u1", userPrincipalName: "adele@contoso.com", displayName: "Adele Vance", mail: "adele@contoso.com", accountEnabled: true)]
        next.removedUserIDs = ["u2"]
        next.removedGroupIDs = ["g1"]
        let second = try await fixture.store.applyDirectoryBatch(tenantID: tenant.id, batch: next, at: .now)
        #expect(second.usersChanged == 1 && second.usersRemoved == 1 && second.groupsRemoved == 1)
        #expect(second.membershipsRemoved == 3, "u2's membership, g1's member and g1 as a member of g2")
        #expect(try await fixture.directoryUsers(tenantID: tenant.id).map(\.displayName) == ["Adele Vance"])
        #expect(try await fixture.store.directoryUser(tenantID: tenant.id, userPrincipalName: "ADELE@contoso.com")?.id == "u1")
        #expect(try await fixture.directoryGroups(tenantID: tenant.id).map(\.id) == ["g2"])
        #expect(try await fixture.groupMemberships(tenantID: tenant.id).isEmpty)
        try await fixture.store.clearDeltaLinks(tenantID: tenant.id)
        #expect(try await fixture.store.deltaLink(tenantID: tenant.id, resource: "users") == nil)
        }
    }

    @Test(arguments: StoreKind.allCases) func selectedTargetsAndSyncRuns(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
        let tenant = try await fixture.store.upsertTenant(id: UUID().uuidString, domain: "contoso.com", displayName: nil)
        let added = Date(timeIntervalSince1970: 1_800_000_000)
        try await fixture.store.addSelectedTargets([
            SelectedTarget(tenantID: tenant.id, userPrincipalName: "b@contoso.com", userID: "u2", source: .group, addedAt: added),
            SelectedTarget(tenantID: tenant.id, userPrincipalName: "a@contoso.com", userID: "u1", source: .upn, addedAt: added),
        ])
        #expect(try await fixture.store.selectedTargets(tenantID: tenant.id).map(\.userPrincipalName) == ["a@contoso.com", "b@contoso.com"])
        try await fixture.store.removeSelectedTargets(tenantID: tenant.id, userPrincipalNames: ["A@contoso.com"])
        #expect(try await fixture.store.selectedTargets(tenantID: tenant.id).map(\.source) == [.group])

        let run = try await fixture.store.startSyncRun(tenantID: tenant.id, service: .onedrive, trigger: .provision, mode: .full, at: added)
        #expect(run.state == .running)
        var counts = DirectoryChangeCounts()
        counts.usersAdded = 5
        counts.membershipsAdded = 7
        try await fixture.store.recordSyncProgress(runID: run.id, pages: 3, counts: counts)
        try await fixture.store.finishSyncRun(runID: run.id, state: .failed, error: "malformed page", at: added + 10)
        let finished = try #require(try await fixture.store.syncRun(id: run.id))
        #expect(finished.pages == 3 && finished.counts == counts && finished.state == .failed)
        #expect(finished.error == "malformed page" && finished.finishedAt == added + 10 && finished.service == .onedrive)
        #expect(try await fixture.store.syncRuns(tenantID: tenant.id, limit: 5) == [finished])
        }
    }

    @Test(arguments: StoreKind.allCases) func alertsAndTheirDeliveries(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let alert = try await fixture.store.enqueueAlert(
            NewAlert(kind: "token-invalid", severity: .critical, tenantID: "t", accountID: 1, grantID: 2, subject: "s", body: "b", facts: AlertFacts(aadstsCode: 70008)),
            channels: ["journal", "smtp", "hook:pager"], at: at
        )
        #expect(try await fixture.store.alert(id: alert.id) == alert)
        #expect(try await fixture.store.deliveries(alertID: alert.id).map(\.channel) == ["hook:pager", "journal", "smtp"])
        #expect(try await fixture.store.dueDeliveries(at: at, limit: 10).count == 3)
        try await fixture.store.markDelivered(alertID: alert.id, channel: "journal", at: at)
        try await fixture.store.markDeliveryFailed(alertID: alert.id, channel: "smtp", error: "connection refused", nextAttemptAt: at + 30)
        #expect(try await fixture.store.dueDeliveries(at: at, limit: 10).map(\.channel) == ["hook:pager"])
        #expect(try await fixture.store.nextDeliveryDate() == at)
        try await fixture.store.markDelivered(alertID: alert.id, channel: "hook:pager", at: at)
        #expect(try await fixture.store.nextDeliveryDate() == at + 30)
        let smtp = try #require(try await fixture.store.deliveries(alertID: alert.id).first { $0.channel == "smtp" })
        #expect(smtp.attempts == 1 && smtp.lastError == "connection refused" && smtp.state == .pending)
        try await fixture.store.acknowledgeAlert(id: alert.id, at: at + 60)
        #expect(try await fixture.store.alerts(includeAcknowledged: false, limit: 10).isEmpty)
        #expect(try await fixture.store.alerts(includeAcknowledged: true, limit: 10).first?.acknowledgedAt == at + 60)
        }
    }
}
