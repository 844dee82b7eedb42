import Foundation
import TenantSyncCore
import Testing
@testable import TenantSyncStore

/// The set-based reads behind `status`, `accounts`, `search-groups` and the daily scheduler.
@Suite("Set-based fleet queries")
struct FleetQueryTests {
    @Test(arguments: StoreKind.allCases) func scheduledTenantsAreScopeAllWithADirectoryAccountPastProvisioningAndCarryTheNewestRunStart(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
        let store = fixture.store
        let (scheduled, account, _, _) = try await fixture.seedExchangeAccount(domain: "a.example")
        #expect(try await store.scheduledTenants(onlyTenantID: nil).isEmpty, "an account still provisioning schedules nothing")
        try await store.setAccountState(id: account.id, state: .tokenInvalid, provisioningStep: nil, provisioningError: nil)
        #expect(try await store.scheduledTenants(onlyTenantID: nil) == [ScheduledTenant(tenantID: scheduled.id, domain: "a.example", lastRunStartedAt: nil)])

        let older = Date(timeIntervalSince1970: 1_800_000_000)
        let newer = older + 86_400
        for start in [newer, older] {
            let run = try await store.startSyncRun(tenantID: scheduled.id, service: nil, trigger: .daily, mode: .delta, at: start)
            try await store.finishSyncRun(runID: run.id, state: .failed, error: "x", at: start + 10)
        }
        #expect(try await store.scheduledTenants(onlyTenantID: scheduled.id).first?.lastRunStartedAt == newer, "the newest start, whatever the outcome")

        let teamsOnly = try await store.upsertTenant(id: UUID().uuidString, domain: "b.example", displayName: nil)
        let teams = try await store.createAccount(tenantID: teamsOnly.id, service: .teamsChat, appID: nil, licensingModel: nil)
        try await store.setAccountState(id: teams.id, state: .active, provisioningStep: nil, provisioningError: nil)
        let (selected, selectedAccount, _, _) = try await fixture.seedExchangeAccount(domain: "c.example")
        try await store.setAccountState(id: selectedAccount.id, state: .active, provisioningStep: nil, provisioningError: nil)
        try await store.setSyncScope(tenantID: selected.id, scope: .selected)
        #expect(try await store.scheduledTenants(onlyTenantID: nil).map(\.domain) == ["a.example"], "Teams Chat alone or a selected scope: no daily sync")
        #expect(try await store.scheduledTenants(onlyTenantID: selected.id).isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases) func memberCountsCountOnlyTheNamedGroupsOfTheTenant(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
        let (tenant, _, _, _) = try await fixture.seedExchangeAccount(domain: "a.example")
        let (other, _, _, _) = try await fixture.seedExchangeAccount(domain: "b.example")
        for (id, groups) in [(tenant.id, ["g1": 3, "g2": 1, "g3": 5]), (other.id, ["g1": 7])] {
            var batch = DirectoryBatch()
            batch.upsertedGroups = groups.keys.map { DirectoryGroup(id: $0, displayName: $0, mail: nil) }
            batch.replacedMembershipsOfGroups = groups.mapValues { count in
                (0..<count).map { GroupMembership(groupID: "", memberID: "u\($0)", memberType: .user) }
            }
            for (group, members) in batch.replacedMembershipsOfGroups {
                batch.replacedMembershipsOfGroups[group] = members.map { GroupMembership(groupID: group, memberID: $0.memberID, memberType: .user) }
            }
            try await fixture.store.applyDirectoryBatch(tenantID: id, batch: batch, at: .now)
        }
        #expect(try await fixture.store.memberCounts(tenantID: tenant.id, groupIDs: ["g1", "g3", "missing"]) == ["g1": 3, "g3": 5])
        #expect(try await fixture.store.memberCounts(tenantID: other.id, groupIDs: ["g1"]) == ["g1": 7])
        #expect(try await fixture.store.memberCounts(tenantID: tenant.id, groupIDs: []).isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases) func pendingDeliveriesAreCountedPerChannelWithTheOldest(kind: StoreKind) async throws {
        try await kind.withStore { fixture in
        let store = fixture.store
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var ids: [Int64] = []
        for offset in 0..<3 {
            ids.append(try await store.enqueueAlert(NewAlert(kind: "k", severity: .info, subject: "s", body: "b"), channels: ["journal", "smtp"], at: start + Double(offset)).id)
        }
        try await store.markDelivered(alertID: ids[0], channel: "journal", at: start)
        try await store.acknowledgeAlert(id: ids[1], at: start)
        #expect(try await store.pendingDeliveriesByChannel() == [
            ChannelBacklog(channel: "journal", pending: 2, oldestPendingAt: start + 1),
            ChannelBacklog(channel: "smtp", pending: 3, oldestPendingAt: start),
        ])
        #expect(try await store.unacknowledgedAlertCount() == 2)
        let deliveries = try await store.deliveries(alertIDs: [ids[0], ids[2]])
        #expect(deliveries[ids[0]]?.map(\.channel) == ["journal", "smtp"] && deliveries[ids[1]] == nil && deliveries[ids[2]]?.count == 2)
        }
    }
}
