import Foundation
import M365Emulator
import Testing

/// The `/_emulator/` admin API and the generator.
@Suite(.serialized)
struct AdminAPITests {
    @Test func tenantsListingHasIdDomainUsersAndGroups() async throws {
        try await Harness.run(EmulatorConfiguration(tenants: 3, usersPerTenant: 12, groupsPerTenant: 4)) { h in
            let answer = try await h.admin(.GET, "/tenants")
            #expect(answer.status == 200)
            let tenants = answer.jsonArray
            #expect(tenants.count == 3)
            for t in tenants {
                #expect((t["id"] as? String)?.count == 36)
                #expect((t["domain"] as? String)?.hasSuffix(".onmicrosoft.com") == true)
                #expect(t["users"] as? Int == 12)
                #expect(t["groups"] as? Int == 4)
            }
            #expect(!answer.text.contains(EmulatorDefaults.clientSecret), "secrets never leave the admin API")
        }
    }

    @Test func generatorIsDeterministicForASeed() async throws {
        let config = EmulatorConfiguration(tenants: 2, usersPerTenant: 40, groupsPerTenant: 5, seed: 42)
        let a = M365Emulator(configuration: config, logger: .init(label: "a"))
        let b = M365Emulator(configuration: config, logger: .init(label: "b"))
        #expect(a.tenants().map(\.id) == b.tenants().map(\.id))
        let tenantA = a.tenants()[0].id
        #expect(try a.users(tenant: tenantA) == b.users(tenant: tenantA))
        #expect(try a.groups(tenant: tenantA) == b.groups(tenant: tenantA))
        let c = M365Emulator(configuration: EmulatorConfiguration(tenants: 2, usersPerTenant: 40, groupsPerTenant: 5, seed: 43), logger: .init(label: "c"))
        #expect(c.tenants().map(\.id) != a.tenants().map(\.id))
        #expect(try a.groups(tenant: tenantA).contains { $0.memberCount > 0 })
    }

    @Test func directoryMutationsOverHTTPAndErrors() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant
            let created = try await h.admin(.POST, "/tenants/\(tenant.domain)/users", json: """
                {"userPrincipalName": "zed@\(tenant.domain)", "displayName": "Zed"}
                """)
            #expect(created.status == 201)
            let id = try #require(created.json["id"] as? String)
            let duplicate = try await h.admin(.POST, "/tenants/\(tenant.domain)/users", json: "{\"userPrincipalName\": \"zed@\(tenant.domain)\"}")
            #expect(duplicate.status == 409)
            let patched = try await h.admin(.PATCH, "/tenants/\(tenant.id)/users/\(id)", json: "{\"accountEnabled\": false}")
            #expect(patched.json["accountEnabled"] as? Bool == false)
            #expect(try await h.admin(.DELETE, "/tenants/\(tenant.id)/users/\(id)").status == 204)
            #expect(try await h.admin(.POST, "/tenants/\(tenant.id)/users/\(id)/restore").status == 200)
            #expect(try await h.admin(.DELETE, "/tenants/\(tenant.id)/users/\(id)?hard=true").status == 204)
            let group = try await h.admin(.POST, "/tenants/\(tenant.id)/groups", json: "{\"displayName\": \"Ops\"}")
            let groupID = try #require(group.json["id"] as? String)
            let user = try h.emulator.users(tenant: tenant.id, limit: 1)[0]
            #expect(try await h.admin(.POST, "/tenants/\(tenant.id)/groups/\(groupID)/members", json: "{\"id\": \"\(user.id)\"}").status == 204)
            #expect(try await h.admin(.DELETE, "/tenants/\(tenant.id)/groups/\(groupID)/members/\(user.id)").status == 204)
            let bad = try await h.admin(.POST, "/tenants/\(tenant.id)/users", json: "{\"userPrincipalName\": 5}")
            #expect(bad.status == 400)
            #expect(try await h.admin(.GET, "/tenants/nope.example").status == 404)
            let newTenant = try await h.admin(.POST, "/tenants", json: "{\"users\": 7, \"groups\": 2}")
            #expect(newTenant.json["users"] as? Int == 7)
        }
    }

    @Test func requestCountersAndLogCountTokenRequestsWithoutSecrets() async throws {
        try await Harness.run { h in
            let tenant = h.firstTenant.id
            _ = try await h.appToken(tenant: tenant)
            _ = try await h.appToken(tenant: tenant)
            let counters = try await h.admin(.GET, "/tenants/\(tenant)/counters").json
            #expect(counters["token"] as? Int == 2)
            #expect(counters["token.client_credentials"] as? Int == 2)
            let log = try await h.admin(.GET, "/requests?tenant=\(tenant)")
            let entries = log.jsonArray
            #expect(entries.count == 2)
            #expect(entries.allSatisfy { $0["kind"] as? String == "token" && $0["grantType"] as? String == "client_credentials" })
            #expect(!log.text.contains(EmulatorDefaults.clientSecret))
        }
    }
}
