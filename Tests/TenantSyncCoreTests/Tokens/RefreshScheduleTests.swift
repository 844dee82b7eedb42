import Foundation
import Testing
import TenantSyncCore

@Suite("Refresh schedule")
struct RefreshScheduleTests {
    let obtained = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("Due the margin before expiry, pulled earlier within the spread")
    func marginAndSpread() {
        let schedule = RefreshSchedule(margin: .seconds(600), spread: .seconds(300))
        let expires = obtained.addingTimeInterval(3600)
        #expect(schedule.nextRefresh(obtainedAt: obtained, expiresAt: expires, refreshInAt: nil, random: 0) == expires.addingTimeInterval(-600))
        #expect(schedule.nextRefresh(obtainedAt: obtained, expiresAt: expires, refreshInAt: nil, random: 1) == expires.addingTimeInterval(-900))
    }

    @Test("Microsoft's refresh_in wins when it is earlier")
    func refreshInHint() {
        let schedule = RefreshSchedule(margin: .seconds(600), spread: .zero)
        let expires = obtained.addingTimeInterval(86_400)
        let hint = obtained.addingTimeInterval(43_200)
        #expect(schedule.nextRefresh(obtainedAt: obtained, expiresAt: expires, refreshInAt: hint, random: 0.7) == hint)
        let lateHint = expires.addingTimeInterval(-60)
        #expect(schedule.nextRefresh(obtainedAt: obtained, expiresAt: expires, refreshInAt: lateHint, random: 0) == expires.addingTimeInterval(-600))
    }

    @Test("A short-lived token keeps at least half its life")
    func lifetimeFloor() {
        let schedule = RefreshSchedule(margin: .seconds(600), spread: .seconds(300))
        let expires = obtained.addingTimeInterval(300)
        #expect(schedule.nextRefresh(obtainedAt: obtained, expiresAt: expires, refreshInAt: nil, random: 0.5) == obtained.addingTimeInterval(150))
    }

    @Test("The spread never exceeds a tenth of the lifetime")
    func spreadBoundedByLifetime() {
        let schedule = RefreshSchedule(margin: .seconds(60), spread: .seconds(3600))
        let expires = obtained.addingTimeInterval(1000)
        #expect(schedule.nextRefresh(obtainedAt: obtained, expiresAt: expires, refreshInAt: nil, random: 1) == expires.addingTimeInterval(-160))
    }
}
