import Foundation
import Testing
import TenantSyncCore
@testable import TenantSyncStore

/// The fleet benchmark's seed: the rows the store's own reads expect, a quiet state, and never over existing data.
@Suite("Fleet seed")
struct FleetSeedTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func seedsTheFleetShapePerTenantAndCountsIt() async throws {
        let fixture = try StoreFixture()
        let counts = try await fixture.store.seedFleet(FleetSeed(tenants: 20, now: Self.now))
        var expected = FleetSeed.Counts()
        expected.tenants = 20
        expected.accounts = 60
        expected.tokenInvalidAccounts = 1  // tenant 7
        expected.grants = 80
        expected.tokenSets = 80
        expected.syncRuns = 600
        expected.heldRuns = 1  // tenant 11
        expected.alerts = 100
        expected.unacknowledgedAlerts = 2  // tenant 7's token-invalid, tenant 11's held run
        expected.pendingDeliveries = 0
        #expect(counts == expected)

        let invalid = try await fixture.store.accountOverviews(AccountQuery(state: .tokenInvalid))
        #expect(invalid.map(\.tenant.domain) == ["fleet-7.example"] && invalid.first?.openIncidentKinds == [.tokenInvalid])
        #expect(try await fixture.store.heldSyncRunsOfAllTenants().map(\.tenantID) == [FleetSeed.tenantID(11)])
    }

    @Test func tokensAreSealedInTheirOwnRowsAndOpenThroughTheStore() async throws {
        let fixture = try StoreFixture()
        _ = try await fixture.store.seedFleet(FleetSeed(tenants: 3, now: Self.now, accessTokenLength: 1_200))
        var seen: Set<String> = []
        for account in try await fixture.store.accounts() {
            for grant in try await fixture.store.grants(accountID: account.id) {
                let tokens = try #require(try await fixture.store.tokenSet(grantID: grant.id), "grant \(grant.id) has no token set")
                #expect(tokens.accessToken.reveal.count == 1_200 && tokens.refreshToken != nil)
                #expect(tokens.expiresAt.timeIntervalSince(tokens.obtainedAt) == 12 * 3_600)
                seen.insert(tokens.accessToken.reveal)
            }
        }
        #expect(seen.count == 12, "every grant has a token of its own")
    }

    @Test func nothingIsDueForHoursAfterTheSeed() async throws {
        let fixture = try StoreFixture()
        _ = try await fixture.store.seedFleet(FleetSeed(tenants: 50, now: Self.now))
        // The earliest token was obtained an hour before the seed: expiry 11 hours after it, refresh an hour before.
        #expect(try await fixture.store.grantsDue(before: Self.now + 10 * 3_600 - 1, limit: 10).isEmpty, "a refresh is due within 10 hours")
        #expect(try await fixture.store.grantsDue(before: Self.now + 12 * 3_600, limit: 10).count == 10, "the seeded tokens fall due later")

        let scheduled = try await fixture.store.scheduledTenants(onlyTenantID: nil)
        #expect(scheduled.count == 50, "every tenant syncs its whole directory daily")
        // Whatever the window: a daily sync is due no sooner than 12 hours after the last run started.
        for windowStart in stride(from: 0, to: 1_440, by: 90) {
            let schedule = DailySyncSchedule(windowStartMinutes: windowStart, windowLength: .seconds(4 * 3_600))
            for tenant in scheduled {
                let due = schedule.nextDue(tenantID: tenant.tenantID, lastRun: tenant.lastRunStartedAt, now: Self.now)
                #expect(due > Self.now + 10 * 3_600, "\(tenant.domain) is due at \(due) with the window at minute \(windowStart)")
            }
        }
    }

    @Test func refusesADatabaseThatHoldsTenantsAndWritesNothing() async throws {
        let fixture = try StoreFixture()
        _ = try await fixture.seedExchangeAccount(domain: "contoso.com")
        let error = await #expect(throws: TenantSyncError.self) {
            try await fixture.store.seedFleet(FleetSeed(tenants: 5, now: Self.now))
        }
        #expect(error?.code == .invalidArgument && error?.message.contains("empty database") == true, "\(String(describing: error))")
        #expect(try await fixture.store.tenants().map(\.domain) == ["contoso.com"], "nothing was added")
        #expect(try await fixture.store.fleetCounts().syncRuns == 0)
    }
}
