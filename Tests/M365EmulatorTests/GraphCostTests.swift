import AsyncHTTPClient
import Foundation
import M365Emulator
import Testing

/// Identity and access throttling as "Microsoft Graph service-specific throttling limits" documents it
/// (section "Identity and access service limits"): costs, the app+tenant and per-app buckets, the headers,
/// priorities, usage, and per-request latency.
@Suite(.serialized)
struct GraphCostTests {
    /// A clock that only moves when a test advances it, so buckets refill exactly when the test says.
    static let frozenStart = 1_800_000_000.0

    static func config(tenants: Int = 2, users: Int = 30, appLimit: Int = 150_000) -> EmulatorConfiguration {
        EmulatorConfiguration(tenants: tenants, usersPerTenant: users, groupsPerTenant: 4,
                              applicationResourceUnitsPer20Seconds: appLimit, manualClockStart: frozenStart)
    }

    // Base costs from the doc's table and its modifiers: $select −1, $expand +1, $top < 20 −1, never below 1.
    @Test func everyRequestKindCostsTheDocumentedResourceUnits() async throws {
        try await Harness.run(Self.config(tenants: 1)) { h in
            let tenant = h.firstTenant.id
            let token = try await h.appToken(tenant: tenant)
            let group = try h.emulator.groups(tenant: tenant)[0].id
            let user = try h.emulator.users(tenant: tenant, limit: 1)[0].id
            let table: [(String, Int)] = [
                ("/users", 2),
                ("/users?$select=id,displayName", 1),
                ("/users?$top=10", 1),
                ("/users?$top=20", 2),
                ("/users?$select=id&$top=5", 1),  // 2 − 1 − 1 = 0, but never below 1
                ("/users/\(user)", 1),
                ("/users/delta?$select=id", 1),
                ("/groups", 1),
                ("/groups/\(group)", 1),
                ("/groups/\(group)/members", 3),
                ("/groups/\(group)/members?$select=id", 2),
                ("/groups/\(group)/members?$top=999", 3),
                ("/groups/\(group)/members?$select=id&$top=5", 1),
                ("/groups/\(group)/transitiveMembers", 5),
                ("/groups/\(group)/transitiveMembers?$select=id&$top=10", 3),
                ("/groups/delta?$select=displayName&$expand=members", 1),  // 1 − 1 + 1
                ("/groups/delta?$expand=members", 2),
                ("/organization", 1),
                ("/domains", 1),
            ]
            var spent = 0
            for (path, expected) in table {
                let answer = try await h.graph(path, token: token)
                #expect(answer.status == 200, "\(path) answered \(answer.status): \(answer.text.prefix(200))")
                #expect(answer.header("x-ms-resource-unit") == String(expected), "\(path) should cost \(expected) RU")
                spent += expected
            }
            // A metered request that fails still spent its units and says so.
            let missing = try await h.graph("/groups/00000000-0000-0000-0000-000000000000/members", token: token)
            #expect(missing.status == 404)
            #expect(missing.header("x-ms-resource-unit") == "3")
            spent += 3
            let usage = try h.emulator.usage(tenant: tenant)
            #expect(usage.total.resourceUnits == spent, "usage sums the charged units")
            #expect(usage.total.requests == table.count + 1)
        }
    }

    // The size classes: under 50 users 3,500, 50–500 5,000, above 500 8,000 RU per 10 s.
    @Test func tenantSizeClassSetsTheAppTenantLimit() async throws {
        try await Harness.run(Self.config(tenants: 0)) { h in
            for (users, limit) in [(0, 3_500), (49, 3_500), (50, 5_000), (500, 5_000), (501, 8_000)] {
                let tenant = try h.emulator.createTenant(users: users, groups: 0)
                let answer = try await h.admin(.GET, "/tenants/\(tenant.id)/usage")
                #expect(answer.json["resourceUnitsPer10Seconds"] as? Int == limit, "\(users) users → \(limit) RU per 10 s")
            }
        }
    }

    // A small tenant's bucket (3,500 RU) empties; the 429 carries Retry-After, x-ms-throttle-scope and
    // x-ms-throttle-information; x-ms-throttle-limit-percentage appears only past 0.8; another tenant is unaffected;
    // the bucket refills with time (the manual clock).
    @Test func smallTenantBucketEmptiesWithDocumentedHeadersOtherTenantUnaffected() async throws {
        try await Harness.run(Self.config()) { h in
            let tenants = h.emulator.tenants()
            let small = tenants[0].id, other = tenants[1].id
            let token = try await h.appToken(tenant: small)
            let otherToken = try await h.appToken(tenant: other)
            let group = try h.emulator.groups(tenant: small)[0].id
            let path = "/groups/\(group)/transitiveMembers"  // 5 RU: 700 of them spend 3,500
            for n in 1...700 {
                let answer = try await h.graph(path, token: token)
                try #require(answer.status == 200, "request \(n) of 700 was refused: \(answer.text.prefix(200))")
                let percentage = answer.header("x-ms-throttle-limit-percentage")
                switch n {
                case 560: #expect(percentage == nil, "at exactly 0.8 of the limit there is no percentage header yet")
                case 561: #expect(percentage == "0.80")
                case 700: #expect(percentage == "1.00")
                case ..<560: if percentage != nil { Issue.record("percentage header at request \(n): \(percentage!)") }
                default: break
                }
            }
            let throttled = try await h.graph(path, token: token)
            #expect(throttled.status == 429)
            #expect(throttled.header("Retry-After") == "1", "5 RU at 350 RU/s are back within a second")
            #expect(throttled.header("x-ms-throttle-scope")?.lowercased() == "tenant_application/readwrite/\(h.clientID)/\(small)".lowercased())
            #expect(throttled.header("x-ms-throttle-information") == "ResourceUnitLimitExceeded")
            #expect((throttled.json["error"] as? [String: Any])?["code"] as? String == "TooManyRequests")
            #expect(throttled.header("x-ms-resource-unit") == nil, "a refused request spends nothing")

            let otherGroup = try h.emulator.groups(tenant: other)[0].id
            let unaffected = try await h.graph("/groups/\(otherGroup)/transitiveMembers", token: otherToken)
            #expect(unaffected.status == 200, "another tenant has a bucket of its own")
            #expect(unaffected.header("x-ms-throttle-limit-percentage") == nil)

            try h.emulator.advanceClock(by: 1)  // 350 RU back: exactly 70 more requests
            for _ in 0..<70 { #expect(try await h.graph(path, token: token).status == 200) }
            #expect(try await h.graph(path, token: token).status == 429)

            let usage = try h.emulator.usage(tenant: small)
            #expect(usage.total.throttled == 2)
            #expect(usage.total.resourceUnits == 3_500 + 350)
            #expect(try h.emulator.usage(tenant: other).total.throttled == 0)
        }
    }

    // The per-app bucket (150,000 RU per 20 s in production; 100 here) caps the sum over tenants even when
    // every app+tenant bucket has room; its 429 names the Application scope; it refills over 20 s.
    @Test func perAppBucketCapsTheSumAcrossTenants() async throws {
        try await Harness.run(Self.config(appLimit: 100)) { h in
            let tenants = h.emulator.tenants()
            let a = try await h.appToken(tenant: tenants[0].id)
            let b = try await h.appToken(tenant: tenants[1].id)
            for _ in 0..<30 { #expect(try await h.graph("/users", token: a).status == 200) }  // 60 RU
            for _ in 0..<20 { #expect(try await h.graph("/users", token: b).status == 200) }  // 40 RU
            for token in [a, b] {
                let refused = try await h.graph("/organization", token: token)
                #expect(refused.status == 429, "the app has spent its 100 RU across both tenants")
                #expect(refused.header("x-ms-throttle-scope")?.hasPrefix("Application/ReadWrite/") == true)
                #expect(refused.header("Retry-After") == "1")
            }
            let usage = h.emulator.usage()
            #expect(usage.applicationResourceUnitsPer20Seconds == 100)
            #expect(usage.apps[h.clientID.lowercased()]?.resourceUnits == 100)
            #expect(usage.apps[h.clientID.lowercased()]?.throttled == 2)
            #expect(usage.tenants[tenants[0].id]?.resourceUnits == 60)
            #expect(usage.tenants[tenants[1].id]?.resourceUnits == 40)
            try h.emulator.advanceClock(by: 20)
            #expect(try await h.graph("/users", token: b).status == 200)
        }
    }

    // x-ms-throttle-priority is accepted and counted per priority; other values count as normal (the doc);
    // the admin API reports usage per tenant and app over HTTP and resets it.
    @Test func prioritiesAreCountedAndUsageResets() async throws {
        try await Harness.run(Self.config()) { h in
            let tenant = h.firstTenant.id
            let token = try await h.appToken(tenant: tenant)
            for (value, times) in [("Low", 3), ("High", 2), ("normal", 1), ("urgent", 1)] {
                for _ in 0..<times {
                    #expect(try await h.graph("/organization", token: token, headers: [("x-ms-throttle-priority", value)]).status == 200)
                }
            }
            #expect(try await h.graph("/users", token: token).status == 200)
            let tenantUsage = try await h.admin(.GET, "/tenants/\(tenant)/usage").json
            let app = try #require((tenantUsage["apps"] as? [String: Any])?[h.clientID.lowercased()] as? [String: Any])
            #expect(app["requests"] as? Int == 8)
            #expect(app["resourceUnits"] as? Int == 9)
            #expect(app["requestsByPriority"] as? [String: Int] == ["low": 3, "high": 2, "normal": 3])
            let all = try await h.admin(.GET, "/usage").json
            #expect((all["total"] as? [String: Any])?["requests"] as? Int == 8)
            #expect(((all["tenants"] as? [String: Any])?[tenant] as? [String: Any])?["resourceUnits"] as? Int == 9)

            #expect(try await h.admin(.DELETE, "/tenants/\(tenant)/usage").status == 204)
            #expect(try h.emulator.usage(tenant: tenant).total == UsageCounters())
            #expect(h.emulator.usage().total.requests == 0, "a tenant's reset leaves the per-app totals consistent")
            #expect(try await h.graph("/organization", token: token).status == 200)
            #expect(try await h.admin(.DELETE, "/usage").status == 204)
            #expect(h.emulator.usage().total == UsageCounters())
            #expect(try await h.admin(.GET, "/tenants/nope.onmicrosoft.com/usage").status == 404)
        }
    }

    // A limit below one request's cost (a test's override) admits that request from a full bucket and then waits
    // for the debt to refill, instead of refusing it for ever.
    @Test func requestDearerThanTheWholeBucketIsServedFromAFullOne() async throws {
        try await Harness.run(Self.config()) { h in
            let tenant = h.firstTenant.id
            try h.emulator.updateSettings(tenant: tenant, TenantSettingsPatch(resourceUnitsPer10Seconds: 3))
            let token = try await h.appToken(tenant: tenant)
            let group = try h.emulator.groups(tenant: tenant)[0].id
            #expect(try await h.graph("/groups/\(group)/transitiveMembers", token: token).status == 200)  // 5 RU of 3
            let refused = try await h.graph("/groups/\(group)/transitiveMembers", token: token)
            #expect(refused.status == 429)
            #expect(refused.header("Retry-After") == "17", "2 RU of debt plus 3 RU at 0.3 RU/s")
            try h.emulator.advanceClock(by: 16)
            #expect(try await h.graph("/groups/\(group)/transitiveMembers", token: token).status == 429)
            try h.emulator.advanceClock(by: 1)
            #expect(try await h.graph("/groups/\(group)/transitiveMembers", token: token).status == 200)
        }
    }

    // A throttling-disabled tenant is metered but never refused.
    @Test func disabledThrottlingStillMetersButNeverRefuses() async throws {
        try await Harness.run(Self.config()) { h in
            let tenant = h.firstTenant.id
            try h.emulator.updateSettings(tenant: tenant, TenantSettingsPatch(throttlingEnabled: false, resourceUnitsPer10Seconds: 4))
            let token = try await h.appToken(tenant: tenant)
            for _ in 0..<5 {
                let answer = try await h.graph("/users", token: token)
                #expect(answer.status == 200)
                #expect(answer.header("x-ms-resource-unit") == "2")
            }
            #expect(try h.emulator.usage(tenant: tenant).total.resourceUnits == 10)
        }
    }

    // Latency: per tenant through the admin API (and the emulator-wide default), an async sleep, so concurrent
    // requests overlap instead of queueing. Only the lower bounds are exact (the emulator sleeps at least that
    // long); the upper bounds leave a wide margin (4x for the overlap, 10x for the default) so a loaded machine
    // cannot fail them, while queued requests (8 x 1.5 s = 12 s) or a latency that stayed at 1.5 s still would.
    @Test func latencyDelaysEachRequestAndConcurrentRequestsOverlap() async throws {
        var config = Self.config()
        config.latency = .milliseconds(150)
        try await Harness.run(config) { h in
            let tenants = h.emulator.tenants()
            let slow = tenants[0].id, fast = tenants[1].id
            let set = try await h.admin(.POST, "/tenants/\(slow)/latency", json: #"{"latency": "1500ms"}"#)
            #expect(set.status == 200)
            #expect(set.json["latencyMilliseconds"] as? Int == 1_500)
            #expect(try await h.admin(.POST, "/tenants/\(fast)/latency", json: #"{"milliseconds": 0}"#).status == 200)
            #expect(try await h.admin(.POST, "/tenants/\(fast)/latency", json: #"{"latency": "soon"}"#).status == 400)
            let slowToken = try await h.appToken(tenant: slow)
            let fastToken = try await h.appToken(tenant: fast)

            let one = try await Self.timed { let answer = try await h.graph("/organization", token: slowToken); #expect(answer.status == 200) }
            #expect(one >= .milliseconds(1_500), "the tenant's latency holds each answer back (took \(one))")
            let quick = try await Self.timed { let answer = try await h.graph("/organization", token: fastToken); #expect(answer.status == 200) }
            #expect(quick < .milliseconds(1_500), "another tenant keeps its own latency (took \(quick))")

            let eight = try await Self.timed {
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<8 { group.addTask { try await h.graph("/organization", token: slowToken).status } }
                    for try await status in group { #expect(status == 200) }
                }
            }
            #expect(eight >= .milliseconds(1_500))
            #expect(eight < .milliseconds(6_000), "8 concurrent requests overlap: \(eight), not 8 × 1.5 s")

            // Back to the emulator-wide default of 150 ms.
            #expect(try await h.admin(.POST, "/tenants/\(slow)/latency", json: "{}").status == 200)
            #expect(try h.emulator.tenant(slow).settings.latencyMilliseconds == nil)
            let fallback = try await Self.timed { let answer = try await h.graph("/organization", token: slowToken); #expect(answer.status == 200) }
            #expect(fallback >= .milliseconds(150) && fallback < .milliseconds(1_500), "the default latency applies again (took \(fallback))")
        }
    }

    static func timed(_ body: () async throws -> Void) async throws -> Duration {
        let start = ContinuousClock.now
        try await body()
        return ContinuousClock.now - start
    }

    @Test func latencyTextParses() {
        #expect(EmulatorDuration.parse("50ms") == .milliseconds(50))
        #expect(EmulatorDuration.parse("1.5s") == .milliseconds(1_500))
        #expect(EmulatorDuration.parse("0") == .zero)
        #expect(EmulatorDuration.parse("250us") == .microseconds(250))
        #expect(EmulatorDuration.parse("fast") == nil)
        #expect(EmulatorDuration.parse("-5ms") == nil)
    }
}
