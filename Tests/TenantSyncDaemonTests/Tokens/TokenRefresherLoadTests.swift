import Foundation
import M365Emulator
import MicrosoftCloud
import Testing
import TenantSyncCore
@testable import TenantSyncDaemon

@Suite("Token refresher under load", .serialized)
struct TokenRefresherLoadTests {
    /// Regression: with the default bound (32) and more due grants than the store has reader
    /// connections, the refresher once stopped for good after 0–31 refreshes.
    @Test("200 grants due at once all refresh with the default in-flight bound")
    func manyDueGrantsWithDefaultBound() async throws {
        let grantCount = 200
        try await TokenFixture.run { f in
            let account = try await f.store.createAccount(tenantID: f.tenant.id, service: .onedrive, appID: nil, licensingModel: nil)
            let tokens = try await f.consent(scopes: MicrosoftTokenGranter.delegatedScopes(f.graphResource))
            // The grants share one consent's tokens and rotate independently (the old token stays usable outside strict mode).
            for index in 0..<grantCount {
                let grant = try await f.store.addGrant(accountID: account.id, name: "g\(index)", resource: f.graphResource, flow: .delegated)
                try await f.store.storeTokenSet(grantID: grant.id, tokens: tokens, nextRefreshAt: f.wall.now.addingTimeInterval(-60))
            }
            let configuration = TokenRefresherConfiguration(alertChannels: TokenFixture.channels)
            #expect(configuration.maxInFlight == 32, "the test is about the default bound")
            let refresher = f.refresher(configuration)
            let refreshesBefore = try f.emulator.counters(tenant: f.tenant.id)["token.refresh_token"] ?? 0

            // A hang must fail the test, not the whole run: the watchdog is a plain thread, so it
            // fires even when every thread of the cooperative pool is blocked.
            let watchdog = Watchdog(after: 180) {
                "TokenRefresher stalled: \(refresher.completedCount) of \(grantCount) refreshes after 180 s"
            }
            defer { watchdog.disarm() }
            let finished = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await refresher.run()
                    return false
                }
                group.addTask {
                    while refresher.completedCount < grantCount { try await Task.sleep(for: .milliseconds(10)) }
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(120))
                    return false
                }
                let first = try await group.next() ?? false
                group.cancelAll()
                return first
            }
            #expect(finished, "only \(refresher.completedCount) of \(grantCount) grants refreshed within 120 s")
            #expect(refresher.peakInFlight <= configuration.maxInFlight, "peak in flight \(refresher.peakInFlight)")
            #expect(refresher.peakInFlight > 4, "the bound was never used: peak in flight \(refresher.peakInFlight)")
            let refreshes = try f.emulator.counters(tenant: f.tenant.id)["token.refresh_token"] ?? 0
            #expect(refreshes - refreshesBefore == grantCount)
            for grant in try await f.store.grants(accountID: account.id) {
                let status = try #require(try await f.store.tokenStatus(grantID: grant.id))
                #expect(status.generation == 2, "grant \(grant.name) was refreshed \(status.generation - 1) times")
                #expect(status.lastRefreshOutcome == "ok")
            }
            #expect(try await f.store.openIncidents().isEmpty)
        }
    }
}
