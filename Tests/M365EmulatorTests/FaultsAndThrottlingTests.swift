import AsyncHTTPClient
import Foundation
import M365Emulator
import Testing

/// Fault injection and Graph throttling.
@Suite(.serialized)
struct FaultsAndThrottlingTests {
    // 429 with Retry-After (Graph "throttling guidance"), N times, then normal answers again.
    @Test func injected429OnGraphHonoursCountAndRetryAfter() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            let token = try await h.appToken(tenant: tenant)
            let added = try await h.admin(.POST, "/faults", json: """
                {"tenant": "\(h.firstTenant.domain)", "path": "/v1.0/users", "kind": "status", "status": 429, "retryAfterSeconds": 7, "times": 2}
                """)
            #expect(added.status == 201)
            for _ in 0..<2 {
                let throttled = try await h.graph("/users", token: token)
                #expect(throttled.status == 429)
                #expect(throttled.header("Retry-After") == "7")
                #expect((throttled.json["error"] as? [String: Any])?["code"] as? String == "TooManyRequests")
            }
            #expect(try await h.graph("/users", token: token).status == 200)
            #expect(try h.emulator.counters(tenant: tenant)["faults"] == 2)
        }
    }

    // Token endpoint outages answer in the OAuth shape (temporarily_unavailable) with Retry-After; 500 and 504 too.
    @Test(arguments: [500, 503, 504])
    func injectedServerErrorsOnTokenEndpoint(status: Int) async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            try h.emulator.addFault(FaultRule(tenant: tenant, path: "/oauth2/v2.0/token", kind: .status, status: status, times: 1))
            let failed = try await h.form("/\(tenant)/oauth2/v2.0/token", [
                "grant_type": "client_credentials", "client_id": h.clientID, "client_secret": h.clientSecret,
                "scope": "https://graph.microsoft.com/.default",
            ])
            #expect(failed.status == status)
            #expect(failed.json["error"] as? String == (status == 503 ? "temporarily_unavailable" : "server_error"))
            if status == 503 { #expect(failed.header("Retry-After") != nil) }
            #expect(try await h.appToken(tenant: tenant).isEmpty == false)
        }
    }

    @Test func probabilityFaultsHitSomeRequestsButNotAll() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            let token = try await h.appToken(tenant: tenant)
            try h.emulator.addFault(FaultRule(tenant: tenant, path: "/v1.0/organization", kind: .status, status: 500, probability: 0.5))
            var failures = 0
            for _ in 0..<60 where try await h.graph("/organization", token: token).status == 500 { failures += 1 }
            #expect(failures > 0 && failures < 60, "p=0.5 over 60 requests gave \(failures) failures")
        }
    }

    @Test func droppedConnectionFailsTheRequest() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            let token = try await h.appToken(tenant: tenant)
            try h.emulator.addFault(FaultRule(tenant: tenant, path: "/v1.0/users", kind: .drop, times: 1))
            await #expect(throws: (any Error).self) {
                _ = try await h.graph("/users", token: token)
            }
            #expect(try await h.graph("/users", token: token).status == 200)
        }
    }

    @Test func malformedJSONPageDoesNotParse() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            let token = try await h.appToken(tenant: tenant)
            try h.emulator.addFault(FaultRule(tenant: tenant, path: "/v1.0/users", kind: .malformedJSON, times: 1))
            let broken = try await h.graph("/users", token: token)
            #expect(broken.status == 200)
            #expect((try? JSONSerialization.jsonObject(with: Data(broken.body))) == nil)
        }
    }

    @Test func slowResponseIsDelayedThenAnswered() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            let token = try await h.appToken(tenant: tenant)
            try h.emulator.addFault(FaultRule(tenant: tenant, path: "/v1.0/organization", kind: .delay, delayMilliseconds: 400, times: 1))
            let started = ContinuousClock.now
            let answer = try await h.graph("/organization", token: token)
            #expect(answer.status == 200)
            #expect(ContinuousClock.now - started >= .milliseconds(350), "the delay fault must hold the answer back")
        }
    }

    // Identity and access throttling: resource units per app+tenant per 10 s; GET users costs 2 RU, $select −1.
    @Test func resourceUnitBudgetThrottlesWithRetryAfterAndRefills() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            try h.emulator.updateSettings(tenant: tenant, TenantSettingsPatch(resourceUnitsPer10Seconds: 6))
            let token = try await h.appToken(tenant: tenant)
            for _ in 0..<3 {
                let ok = try await h.graph("/users", token: token)
                #expect(ok.status == 200)
                #expect(ok.header("x-ms-resource-unit") == "2")
            }
            let throttled = try await h.graph("/users", token: token)
            #expect(throttled.status == 429)
            #expect(Int(throttled.header("Retry-After") ?? "") ?? 0 >= 1)
            #expect(throttled.header("x-ms-throttle-scope")?.hasPrefix("Tenant_Application/") == true)
            try h.emulator.advanceClock(by: 10)
            let selected = try await h.graph("/users?$select=id", token: token)
            #expect(selected.status == 200)
            #expect(selected.header("x-ms-resource-unit") == "1")
            try h.emulator.updateSettings(tenant: tenant, TenantSettingsPatch(throttlingEnabled: false))
            for _ in 0..<5 { #expect(try await h.graph("/users", token: token).status == 200) }
        }
    }

    // Evaluation budget: past the monthly allowance Graph answers 402 Payment Required.
    @Test func monthlyCallLimitAnswers402() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            let appID = "6c0f7a2e-1d3b-4e5f-8a9b-0c1d2e3f4a5b"
            try h.emulator.registerApp(tenant: tenant, AppRegistration(appId: appID, secret: "s", graphPermissions: ["User.Read.All"], monthlyCallLimit: 2))
            let token = try await h.appToken(tenant: tenant, clientID: appID, secret: "s")
            #expect(try await h.graph("/users", token: token).status == 200)
            #expect(try await h.graph("/users", token: token).status == 200)
            let over = try await h.graph("/users", token: token)
            #expect(over.status == 402)
            #expect((over.json["error"] as? [String: Any])?["code"] as? String == "PaymentRequired")
        }
    }
}
