import Foundation
import M365Emulator
import MicrosoftCloud
import ServiceLifecycle
import TenantSyncCore
import Testing
import TestSupport
@testable import TenantSyncDaemon

@Suite("Token refresher against the emulator", .serialized)
struct TokenRefresherEmulatorTests {
    @Test("A due grant is refreshed, the rotated token is stored, and the new access token works")
    func rotation() async throws {
        try await TokenFixture.run { f in
            let (_, grant) = try await f.delegatedGrant()
            let before = try #require(try await f.store.tokenSet(grantID: grant.id))
            let refresher = f.refresher()
            #expect(await refresher.refreshIfDue(grantID: grant.id, onDemand: false))
            let after = try #require(try await f.store.tokenSet(grantID: grant.id))
            #expect(after.refreshToken != before.refreshToken, "the rotated refresh token was not stored")
            #expect(after.accessToken != before.accessToken)
            let status = try #require(try await f.store.tokenStatus(grantID: grant.id))
            #expect(status.generation == 2)
            #expect(status.lastRefreshOutcome == "ok")
            #expect(status.nextRefreshAt < after.expiresAt.addingTimeInterval(-600 + 1))
            #expect(status.nextRefreshAt > f.wall.now)
            let handedOut = try await refresher.accessToken(grantID: grant.id)
            #expect(handedOut == after.accessToken, "the token handed out must be the stored one")
            #expect(try await f.graphAccepts(handedOut))
        }
    }

    @Test("Strict single-use refresh tokens: many refreshes, some concurrent, always with the newest stored token")
    func strictSingleUse() async throws {
        try await TokenFixture.run { f in
            try f.emulator.updateSettings(tenant: f.tenant.id, TenantSettingsPatch(strictRefreshTokens: true))
            let (_, grant) = try await f.delegatedGrant()
            let refresher = f.refresher()
            for _ in 0..<5 {
                try await f.makeDue(grant.id)
                #expect(await refresher.refreshIfDue(grantID: grant.id, onDemand: false))
            }
            try await f.makeDue(grant.id)
            // Five racing refreshes of one grant: the lock lets one redeem, the others find it no longer due.
            let successes = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<5 { group.addTask { await refresher.refreshIfDue(grantID: grant.id, onDemand: false) } }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(successes == 1)
            #expect(try await f.store.grant(id: grant.id)?.state == .valid)
            #expect(try await f.store.openIncidents().isEmpty, "a reused refresh token was redeemed")
            #expect(try await f.store.tokenStatus(grantID: grant.id)?.generation == 7)
            #expect(try f.emulator.counters(tenant: f.tenant.id)["token.refresh_token"] == 6)
        }
    }

    @Test("A revoked refresh token makes the grant invalid with one incident and one alert", arguments: [70008, 700082, 50173])
    func revoked(code: Int) async throws {
        try await TokenFixture.run { f in
            let (account, grant) = try await f.delegatedGrant()
            let refresher = f.refresher()
            _ = try f.emulator.revokeRefreshTokens(tenant: f.tenant.id, code: code)
            #expect(await !refresher.refreshIfDue(grantID: grant.id, onDemand: false))
            #expect(try await f.store.grant(id: grant.id)?.state == .invalid)
            #expect(try await f.store.account(id: account.id)?.state == .tokenInvalid)
            let incidents = try await f.store.openIncidents()
            #expect(incidents.count == 1)
            let incident = try #require(incidents.first)
            #expect(incident.kind == .tokenInvalid)
            #expect(incident.aadstsCode == code)
            #expect(incident.error == "invalid_grant")
            #expect(incident.traceID?.isEmpty == false)
            let alerts = try await f.alerts(kind: "token-invalid")
            #expect(alerts.count == 1)
            let alert = try #require(alerts.first)
            #expect(alert.severity == .critical)
            for needle in [f.tenant.domain, "SharePoint Online", "AADSTS\(code)", incident.traceID ?? "?", "tenantsyncctl renew \(account.id)"] {
                #expect(alert.body.contains(needle), "alert body lacks \(needle)")
            }
            #expect(try await f.store.deliveries(alertID: alert.id).map(\.channel) == ["journal", "smtp"])

            // An invalid grant is left alone: no more calls to Microsoft, and the hot path says why.
            let calls = try f.emulator.counters(tenant: f.tenant.id)["token.refresh_token"]
            #expect(await !refresher.refreshIfDue(grantID: grant.id, onDemand: false))
            #expect(try f.emulator.counters(tenant: f.tenant.id)["token.refresh_token"] == calls)
            await #expect(throws: TenantSyncError.self) { try await refresher.accessToken(grantID: grant.id) }

            // Failing again (say a second daemon still saw it valid) updates the incident, no new alert.
            try await f.store.setGrantState(id: grant.id, state: .valid)
            #expect(await !refresher.refreshIfDue(grantID: grant.id, onDemand: false))
            #expect(try await f.store.openIncidents().map(\.occurrences) == [2])
            #expect(try await f.alerts(kind: "token-invalid").count == 1)
        }
    }

    @Test("429 with Retry-After is transient and the retry waits at least that long")
    func throttled() async throws {
        try await TokenFixture.run { f in
            let (_, grant) = try await f.delegatedGrant()
            let refresher = f.refresher()
            try f.emulator.addFault(FaultRule(tenant: f.tenant.id, path: "/oauth2/v2.0/token", kind: .status, status: 429, retryAfterSeconds: 120, times: 1))
            let failedAt = f.wall.now
            #expect(await !refresher.refreshIfDue(grantID: grant.id, onDemand: false))
            let status = try #require(try await f.store.tokenStatus(grantID: grant.id))
            // The store keeps milliseconds, hence the one-millisecond allowance.
            #expect(status.nextRefreshAt >= failedAt.addingTimeInterval(119.999))
            #expect(status.nextRefreshAt <= failedAt.addingTimeInterval(121))
            #expect(status.lastRefreshOutcome?.hasPrefix("transient: HTTP 429") == true)
            #expect(status.consecutiveFailures == 1)
            #expect(try await f.store.grant(id: grant.id)?.state == .valid)
            #expect(try await f.store.openIncidents().isEmpty)

            f.wall.advance(seconds: 60)
            #expect(await !refresher.refreshIfDue(grantID: grant.id, onDemand: false), "retried before Retry-After")
            f.wall.advance(seconds: 61)
            #expect(await refresher.refreshIfDue(grantID: grant.id, onDemand: false))
            #expect(try await f.store.tokenStatus(grantID: grant.id)?.consecutiveFailures == 0)
        }
    }

    @Test("5xx and slow answers are transient: never token-invalid; one warning once the token expired; resolved by success")
    func transientOutage() async throws {
        // A 2 s request timeout against 5 s answers: far enough apart that a loaded machine's
        // set-up requests (the consent) still finish in time while the slow ones never do.
        try await TokenFixture.run(requestTimeout: .seconds(2)) { f in
            let (account, grant) = try await f.delegatedGrant()
            let refresher = f.refresher()
            let fault = try f.emulator.addFault(FaultRule(tenant: f.tenant.id, path: "/oauth2/v2.0/token", kind: .status, status: 503))
            for _ in 0..<3 {
                try await f.makeDue(grant.id)
                #expect(await !refresher.refreshIfDue(grantID: grant.id, onDemand: false))
            }
            #expect(try await f.store.openIncidents().isEmpty, "no incident while the access token is still valid")
            try f.emulator.removeFault(id: try #require(fault.id))
            try f.emulator.addFault(FaultRule(tenant: f.tenant.id, path: "/oauth2/v2.0/token", kind: .delay, delayMilliseconds: 5_000))

            // Past expiry, with answers slower than the request timeout.
            let expiresAt = try #require(try await f.store.tokenSet(grantID: grant.id)).expiresAt
            f.wall.set(expiresAt.addingTimeInterval(5))
            for _ in 0..<4 {
                try await f.makeDue(grant.id)
                #expect(await !refresher.refreshIfDue(grantID: grant.id, onDemand: false))
            }
            let status = try #require(try await f.store.tokenStatus(grantID: grant.id))
            #expect(status.consecutiveFailures == 7)
            #expect(status.lastRefreshOutcome?.contains("timeout") == true)
            #expect(try await f.store.grant(id: grant.id)?.state == .valid)
            #expect(try await f.store.account(id: account.id)?.state == .active)
            let incidents = try await f.store.openIncidents()
            #expect(incidents.map(\.kind) == [.tokenRefreshFailing])
            #expect(try await f.alerts(kind: "token-invalid").isEmpty)
            let warnings = try await f.alerts(kind: "token-refresh-failing")
            #expect(warnings.count == 1)
            #expect(warnings.first?.severity == .warning)

            f.emulator.clearFaults()
            try await f.makeDue(grant.id)
            #expect(await refresher.refreshIfDue(grantID: grant.id, onDemand: false))
            #expect(try await f.store.openIncidents().isEmpty, "a successful refresh resolves the warning")
        }
    }

    @Test("An expired client secret invalidates the Teams grant (AADSTS7000222); a new secret renews it")
    func expiredClientSecret() async throws {
        try await TokenFixture.run { f in
            let appID = "0d3c1a2b-0000-4000-8000-00000000c0de"
            let (account, grant) = try await f.activeTeamsAccount(appID: appID, secret: "first-teams-secret")
            let refresher = f.refresher()
            #expect(await refresher.refreshIfDue(grantID: grant.id, onDemand: false), "client credentials with the stored secret")

            try f.emulator.setSecretExpired(tenant: f.tenant.id, appId: appID)
            try await f.makeDue(grant.id)
            #expect(await !refresher.refreshIfDue(grantID: grant.id, onDemand: false))
            let incident = try #require(try await f.store.openIncidents().first)
            #expect(incident.aadstsCode == 7000222)
            #expect(incident.error == "invalid_client")
            #expect(try await f.store.grant(id: grant.id)?.state == .invalid)
            #expect(try await f.alerts(kind: "token-invalid").count == 1)

            // A wrong new secret is refused by Microsoft and replaces nothing.
            let renewal = TokenRenewal(storage: f.store, refresher: refresher, logger: f.logs.logger("renewal"), now: { f.wall.now })
            await #expect(throws: IdentityPlatformError.self) {
                try await renewal.renewClientCredentials(
                    grantID: grant.id, appID: appID, secret: Secret("not-the-secret"), secretExpiresAt: nil, using: f.client
                )
            }
            #expect(try await f.store.clientSecret(accountID: account.id)?.reveal == "first-teams-secret")

            try f.emulator.setSecret(tenant: f.tenant.id, appId: appID, secret: "second-teams-secret")
            let outcome = try await renewal.renewClientCredentials(
                grantID: grant.id, appID: appID, secret: Secret("second-teams-secret"), secretExpiresAt: nil, using: f.client
            )
            #expect(outcome.grant.state == .valid)
            #expect(outcome.account.state == .active)
            #expect(outcome.resolvedIncidents.map(\.id) == [incident.id])
            #expect(outcome.alert.kind == "token-renewed")
            #expect(try await f.store.openIncidents().isEmpty)
            try await f.makeDue(grant.id)
            #expect(await refresher.refreshIfDue(grantID: grant.id, onDemand: false), "refreshes with the renewed secret")
        }
    }

    @Test("A revoked delegated grant is renewed by a device-code consent")
    func renewByDeviceCode() async throws {
        try await TokenFixture.run { f in
            try f.emulator.updateSettings(tenant: f.tenant.id, TenantSettingsPatch(deviceCodeIntervalSeconds: 1))
            let (account, grant) = try await f.delegatedGrant()
            let refresher = f.refresher()
            _ = try f.emulator.revokeRefreshTokens(tenant: f.tenant.id, code: 50173)
            #expect(await !refresher.refreshIfDue(grantID: grant.id, onDemand: false))
            #expect(try await f.store.account(id: account.id)?.state == .tokenInvalid)

            let scopes = MicrosoftTokenGranter.delegatedScopes(f.graphResource)
            let authorization = try await f.client.startDeviceCode(tenant: f.tenant.id, clientID: f.productApp.clientID, scopes: scopes)
            #expect(authorization.verificationURI.hasSuffix("/devicelogin"))
            let tokens = try await withThrowingTaskGroup(of: TokenSet?.self) { group in
                group.addTask {
                    _ = try await f.emulator.decideNextDeviceCode(tenant: f.tenant.id, approve: true, wait: .seconds(10))
                    return nil
                }
                group.addTask {
                    try await f.client.pollDeviceCode(tenant: f.tenant.id, client: f.productApp, authorization: authorization)
                }
                var result: TokenSet?
                for try await value in group { if let value { result = value } }
                return try #require(result)
            }
            let renewal = TokenRenewal(storage: f.store, refresher: refresher, logger: f.logs.logger("renewal"), now: { f.wall.now })
            let outcome = try await renewal.renew(grantID: grant.id, tokens: tokens)
            #expect(outcome.account.state == .active)
            #expect(outcome.resolvedIncidents.count == 1)
            #expect(try await f.alerts(kind: "token-renewed").count == 1)
            try await f.makeDue(grant.id)
            #expect(await refresher.refreshIfDue(grantID: grant.id, onDemand: false))
        }
    }

    @Test("The running service refreshes overdue grants at start within the in-flight bound, then sleeps on a timer")
    func serviceBoundAndTimer() async throws {
        let bound = 4
        try await TokenFixture.run { f in
            var grants: [Grant] = []
            let account = try await f.store.createAccount(tenantID: f.tenant.id, service: .onedrive, appID: nil, licensingModel: nil)
            let tokens = try await f.consent(scopes: MicrosoftTokenGranter.delegatedScopes(f.graphResource))
            // Twenty grants share one consent's tokens but rotate independently (the old token stays usable outside strict mode).
            for index in 0..<20 {
                let grant = try await f.store.addGrant(accountID: account.id, name: "g\(index)", resource: f.graphResource, flow: .delegated)
                try await f.store.storeTokenSet(grantID: grant.id, tokens: tokens, nextRefreshAt: f.wall.now.addingTimeInterval(-60))
                grants.append(grant)
            }
            try f.emulator.addFault(FaultRule(tenant: f.tenant.id, path: "/oauth2/v2.0/token", kind: .delay, delayMilliseconds: 150))
            let clock = ManualClock()
            let refresher = f.refresher(.init(maxInFlight: bound, alertChannels: TokenFixture.channels), clock: clock)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await refresher.run() }
                let done = try await eventually("all grants refreshed") { refresher.completedCount >= grants.count }
                #expect(done, "only \(refresher.completedCount) of \(grants.count) refreshed")
                #expect(refresher.peakInFlight == bound, "peak in flight \(refresher.peakInFlight), bound \(bound)")
                for grant in grants {
                    #expect(try await f.store.tokenStatus(grantID: grant.id)?.generation == 2)
                }
                // Idle: the loop sleeps on the clock, at most the 60 s cap, and does not spin. Parked means one
                // timer on the clock and a wait on the wake signal with no wake pending and nothing in flight to
                // send one, a state only the clock or a new wake can leave: no time window is needed to see it.
                let parked = try await eventually("refresher parked") { clock.sleeperCount == 1 && refresher.isParkedIdle }
                #expect(parked, "the idle refresher must wait on one timer and the wake signal, nothing pending")
                let idleSleep = try #require(clock.requestedSleeps.last)
                #expect(idleSleep <= .seconds(60) && idleSleep > .zero, "idle sleep \(idleSleep)")
                // Time short of the deadline wakes nothing.
                let sleepsBefore = clock.requestedSleeps.count
                clock.advance(by: idleSleep / 2)
                #expect(clock.sleeperCount == 1 && clock.requestedSleeps.count == sleepsBefore, "the idle loop woke before its deadline")
                // The deadline wakes it once: one look at the store, then parked again on one new timer.
                clock.advance(by: idleSleep / 2)
                let parkedAgain = try await eventually("refresher parked again") {
                    clock.requestedSleeps.count > sleepsBefore && clock.sleeperCount == 1 && refresher.isParkedIdle
                }
                #expect(parkedAgain)
                #expect(clock.requestedSleeps.count == sleepsBefore + 1, "one timer per wake-up, got \(clock.requestedSleeps.count - sleepsBefore)")
                #expect(refresher.completedCount == grants.count, "nothing was due at the idle wake-up")

                // A wall-clock jump past every due time is noticed at the next capped wake-up.
                let refreshTokenCalls = try f.emulator.counters(tenant: f.tenant.id)["token.refresh_token"] ?? 0
                f.wall.advance(seconds: 6 * 3600)
                clock.advance(by: .seconds(60))
                let caughtUp = try await eventually("refreshed after the jump") { refresher.completedCount >= 2 * grants.count }
                #expect(caughtUp)
                #expect(try f.emulator.counters(tenant: f.tenant.id)["token.refresh_token"] == refreshTokenCalls + grants.count)
                #expect(refresher.peakInFlight == bound)
                group.cancelAll()
            }
        }
    }

    @Test("No token or secret appears in the logs, the errors or the alerts")
    func noSecretsInLogs() async throws {
        try await TokenFixture.run { f in
            let (_, grant) = try await f.delegatedGrant()
            var secrets: [String] = [EmulatorDefaults.clientSecret]
            let refresher = f.refresher()
            for _ in 0..<2 {
                if let tokens = try await f.store.tokenSet(grantID: grant.id) {
                    secrets.append(tokens.accessToken.reveal)
                    secrets += tokens.refreshToken.map { [$0.reveal] } ?? []
                }
                try await f.makeDue(grant.id)
                #expect(await refresher.refreshIfDue(grantID: grant.id, onDemand: false))
            }
            try f.emulator.addFault(FaultRule(tenant: f.tenant.id, path: "/oauth2/v2.0/token", kind: .status, status: 503, times: 1))
            try await f.makeDue(grant.id)
            #expect(await !refresher.refreshIfDue(grantID: grant.id, onDemand: false))
            let last = try #require(try await f.store.tokenSet(grantID: grant.id))
            secrets += [last.accessToken.reveal, last.refreshToken?.reveal ?? ""]
            _ = try f.emulator.revokeRefreshTokens(tenant: f.tenant.id, code: 70008)
            try await f.makeDue(grant.id)
            var thrown: [String] = []
            do {
                _ = try await f.client.refresh(tenant: f.tenant.id, client: f.productApp, refreshToken: last.refreshToken!, scopes: ["x"])
            } catch {
                thrown.append("\(error)")
                thrown.append(String(reflecting: error))
            }
            #expect(await !refresher.refreshIfDue(grantID: grant.id, onDemand: false))

            let logText = f.logs.text
            #expect(!logText.isEmpty)
            #expect(logText.contains("Grant is invalid"))
            let alertText = try await f.store.alerts(includeAcknowledged: true, limit: 100).map { $0.subject + $0.body + String(describing: $0.facts) }.joined()
            let outcomes = try await f.store.tokenStatus(grantID: grant.id)?.lastRefreshOutcome ?? ""
            for secret in secrets where !secret.isEmpty {
                #expect(!logText.contains(secret), "a token or secret is in the logs")
                #expect(!alertText.contains(secret), "a token or secret is in an alert")
                #expect(!outcomes.contains(secret))
                #expect(!thrown.joined().contains(secret), "a token or secret is in an error")
            }
        }
    }
}

@Suite("Graph tokens from stored grants", .serialized)
struct StoredGraphTokenSourceTests {
    @Test("Hands out the stored Graph token; a forced refresh after a 401 replaces it once")
    func graphTokens() async throws {
        try await TokenFixture.run { f in
            let (_, grant) = try await f.delegatedGrant()
            let refresher = f.refresher()
            let source = StoredGraphTokenSource(refresher: refresher, storage: f.store, graphScope: f.graphResource)
            let stored = try #require(try await f.store.tokenSet(grantID: grant.id))
            let first = try await source.graphAccessToken(tenantID: f.tenant.id, forceRefresh: false)
            #expect(first == stored.accessToken)
            #expect(try await f.graphAccepts(first))
            let forced = try await source.graphAccessToken(tenantID: f.tenant.id, forceRefresh: true)
            #expect(forced != first)
            #expect(try await f.store.tokenStatus(grantID: grant.id)?.generation == 2)
            #expect(try await f.graphAccepts(forced))
            await #expect(throws: TenantSyncError.self) {
                try await source.graphAccessToken(tenantID: "00000000-0000-0000-0000-000000000000", forceRefresh: false)
            }
        }
    }
}
