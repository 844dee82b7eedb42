import Foundation
import Testing
import TenantSyncCore

@Suite("Daily sync schedule")
struct DailySyncScheduleTests {
    let schedule = DailySyncSchedule(windowStartMinutes: 120, windowLength: .seconds(4 * 3600))
    let day: TimeInterval = 86_400

    @Test func tenThousandTenantsSpreadOverTheWindow() {
        var buckets = [Int](repeating: 0, count: 24) // ten-minute buckets of the 4h window
        for index in 0..<10_000 {
            let offset = schedule.offset(tenantID: UUID(uuidString: String(format: "00000000-0000-4000-8000-%012d", index))!.uuidString)
            #expect(offset >= .zero && offset < .seconds(14_400))
            buckets[Int(offset.wholeSeconds / 600)] += 1
        }
        // Even spread: 10,000 / 24 ≈ 417 a bucket. No bucket may hold a crowd.
        #expect(buckets.max()! < 600, "buckets: \(buckets)")
        #expect(buckets.min()! > 250, "buckets: \(buckets)")
    }

    @Test func offsetIsStableForATenant() {
        let id = "72f988bf-86f1-41af-91ab-2d7cd011db47"
        #expect(schedule.offset(tenantID: id) == schedule.offset(tenantID: id.uppercased()))
    }

    @Test func nextDueIsInsideTheWindowAndADayApart() {
        let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
        let midnight = Date(timeIntervalSince1970: 1_800_000_000 - 1_800_000_000.truncatingRemainder(dividingBy: day))
        let first = schedule.nextDue(tenantID: tenant, lastRun: nil, now: midnight)
        let secondsIntoDay = first.timeIntervalSince(midnight)
        #expect(secondsIntoDay >= 7_200 && secondsIntoDay < 7_200 + 14_400)
        let next = schedule.nextDue(tenantID: tenant, lastRun: first + 40, now: first + 60)
        #expect(next.timeIntervalSince(first) == day)
    }

    @Test func aSlotMissedWhileDownIsDueAtOnce() {
        let tenant = "0f0e0d0c-0000-4000-8000-000000000001"
        let midnight = Date(timeIntervalSince1970: 1_800_000_000 - 1_800_000_000.truncatingRemainder(dividingBy: day))
        let slot = schedule.nextDue(tenantID: tenant, lastRun: nil, now: midnight)
        // Last ran two days ago; the daemon comes back after today's slot.
        let now = slot + 3_600
        let due = schedule.nextDue(tenantID: tenant, lastRun: slot - 2 * day, now: now)
        #expect(due <= now, "an overdue tenant must be due now, got \(due) for now \(now)")
    }

    @Test func aManualRunJustBeforeTheSlotDoesNotSkipADay() {
        let tenant = "0f0e0d0c-0000-4000-8000-000000000002"
        let midnight = Date(timeIntervalSince1970: 1_800_000_000 - 1_800_000_000.truncatingRemainder(dividingBy: day))
        let slot = schedule.nextDue(tenantID: tenant, lastRun: nil, now: midnight)
        let due = schedule.nextDue(tenantID: tenant, lastRun: slot - 600, now: slot - 600)
        #expect(due == slot + day, "a run 10 minutes before the slot counts for that slot")
    }
}

@Suite("Scope rules")
struct ScopeRulesTests {
    @Test func sharedScopeConflictIsRefused() {
        #expect(throws: TenantSyncError.self) {
            try ScopeRules.checkScope(.all, for: .onedrive, tenantScope: .selected, existingServices: [.exchangeOnline])
        }
        let error = #expect(throws: TenantSyncError.self) {
            try ScopeRules.checkScope(.selected, for: .sharepointOnline, tenantScope: .all, existingServices: [.onedrive, .teamsChat])
        }
        #expect(error?.code == .scopeConflict)
        #expect(error?.message.contains("OneDrive") == true)
    }

    @Test func scopeIsFreeForTheFirstSharingServiceAndForOthers() throws {
        try ScopeRules.checkScope(.selected, for: .exchangeOnline, tenantScope: .all, existingServices: [])
        try ScopeRules.checkScope(.selected, for: .exchangeOnline, tenantScope: .all, existingServices: [.teamsChat, .exchangeOnlineInline])
        try ScopeRules.checkScope(.all, for: .teamsChat, tenantScope: .selected, existingServices: [.exchangeOnline])
        try ScopeRules.checkScope(.selected, for: .onedrive, tenantScope: .selected, existingServices: [.exchangeOnline])
    }

    @Test func selectedScopeHoldsAtMostOneHundred() throws {
        try ScopeRules.checkSelectedCount(current: 90, adding: 10)
        let error = #expect(throws: TenantSyncError.self) { try ScopeRules.checkSelectedCount(current: 95, adding: 6) }
        #expect(error?.code == .tooManyTargets)
    }

    @Test func groupPrefixNeedsThreeCharacters() throws {
        try ScopeRules.checkGroupPrefix("Fin")
        let error = #expect(throws: TenantSyncError.self) { try ScopeRules.checkGroupPrefix("Fi") }
        #expect(error?.code == .groupPrefixTooShort)
    }

    @Test func selectedTenantsGetNoSync() throws {
        try ScopeRules.checkSyncAllowed(tenantScope: .all, tenantDomain: "contoso.com")
        let error = #expect(throws: TenantSyncError.self) { try ScopeRules.checkSyncAllowed(tenantScope: .selected, tenantDomain: "contoso.com") }
        #expect(error?.code == .syncNotAllowedForSelectedScope)
        #expect(error?.message.contains("tenantsyncctl extend --tenant contoso.com") == true)
    }
}

@Suite("Status line")
struct StatusLineTests {
    @Test func namesTheDegradedAccountsAndTheNextSync() {
        let next = Date(timeIntervalSince1970: 86_400 * 20_000 + 2 * 3_600 + 13 * 60)
        let line = StatusLine(
            accounts: 12, provisioning: 0,
            degraded: [.init(tenantDomain: "contoso.com", service: .exchangeOnline, state: "token invalid")],
            nextSync: next, failingDeliveries: 0
        )
        #expect(line.text == "12 accounts: 11 healthy, 1 token invalid (contoso.com/exchange-online); next sync 02:13")
    }

    @Test func saysWhenAlertsCannotBeDelivered() {
        let line = StatusLine(accounts: 1, provisioning: 1, degraded: [], nextSync: nil, failingDeliveries: 2)
        #expect(line.text == "1 account: 0 healthy, 1 provisioning; 2 alert deliveries failing")
    }

    @Test func leadsWithADatabaseThatRefusesWrites() {
        let since = Date(timeIntervalSince1970: 86_400 * 20_000 + 5 * 3_600 + 7 * 60)
        let line = StatusLine(accounts: 2, provisioning: 0, degraded: [], nextSync: nil, failingDeliveries: 0, storeUnwritableSince: since)
        #expect(line.text == "database not writable since 05:07, token refreshes paused; 2 accounts: 2 healthy")
    }
}
