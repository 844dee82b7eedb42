import Foundation
import M365Emulator
import Testing

/// Microsoft Graph v1.0 directory reads, each test citing the Graph documentation it follows.
@Suite(.serialized)
struct GraphDirectoryTests {
    static let config = EmulatorConfiguration(tenants: 1, usersPerTenant: 250, groupsPerTenant: 9)

    // Paging ("Paging Microsoft Graph data in your app"): default page of 100, `@odata.nextLink` carrying an
    // opaque $skiptoken until the last page, $top up to 999.
    @Test func usersArePagedWithOpaqueNextLinks() async throws {
        try await Harness.run(Self.config) { h in
            let token = try await h.appToken(tenant: h.firstTenant.id)
            let first = try await h.graph("/users", token: token)
            #expect(first.status == 200)
            #expect(first.values.count == 100, "default page size is 100")
            let next = try #require(first.json["@odata.nextLink"] as? String)
            #expect(next.hasPrefix(h.base + "/v1.0/users?"))
            #expect(next.contains("$skiptoken="))
            let all = try await h.allPages("/users", token: token)
            #expect(all.pages == 3)
            #expect(Set(all.items.compactMap { $0["id"] as? String }).count == 250)
            #expect(all.last["@odata.nextLink"] == nil)
            let big = try await h.allPages("/users?$top=999", token: token)
            #expect(big.pages == 1)
            #expect(big.items.count == 250)
        }
    }

    // $top outside 1...999: 400 Request_UnsupportedQuery "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive."
    @Test func topOf1000IsRejectedWithMicrosoftsMessage() async throws {
        try await Harness.run(Self.config) { h in
            let token = try await h.appToken(tenant: h.firstTenant.id)
            let answer = try await h.graph("/users?$top=1000", token: token, headers: [("client-request-id", "abc-123")])
            #expect(answer.status == 400)
            let error = try #require(answer.json["error"] as? [String: Any])
            #expect(error["code"] as? String == "Request_UnsupportedQuery")
            #expect(error["message"] as? String == "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.")
            let inner = try #require(error["innerError"] as? [String: Any])
            #expect(inner["date"] is String)
            #expect((inner["request-id"] as? String)?.count == 36)
            #expect(inner["client-request-id"] as? String == "abc-123")
            #expect(try await h.graph("/users?$top=0", token: token).status == 400)
        }
    }

    // $select returns only the chosen properties (plus id).
    @Test func selectReturnsOnlyChosenProperties() async throws {
        try await Harness.run(Self.config) { h in
            let token = try await h.appToken(tenant: h.firstTenant.id)
            let answer = try await h.graph("/users?$select=displayName,accountEnabled&$top=5", token: token)
            #expect(answer.status == 200)
            for user in answer.values {
                #expect(Set(user.keys) == ["displayName", "accountEnabled", "id"])
            }
            let unknown = try await h.graph("/users?$select=shoeSize", token: token)
            #expect(unknown.status == 400)
        }
    }

    // Advanced queries: $count needs `ConsistencyLevel: eventual`; startswith(displayName,'x') filters.
    @Test func filterStartsWithAndCountNeedingConsistencyLevel() async throws {
        try await Harness.run(Self.config) { h in
            let token = try await h.appToken(tenant: h.firstTenant.id)
            let filtered = try await h.allPages("/users?$filter=\(h.encode("startswith(displayName,'Adele')"))", token: token)
            #expect(!filtered.items.isEmpty)
            #expect(filtered.items.allSatisfy { ($0["displayName"] as? String)?.hasPrefix("Adele") == true })
            let noHeader = try await h.graph("/users?$count=true", token: token)
            #expect(noHeader.status == 400)
            #expect((noHeader.json["error"] as? [String: Any])?["code"] as? String == "Request_UnsupportedQuery")
            let counted = try await h.graph("/users?$count=true&$filter=\(h.encode("startswith(displayName,'Adele')"))",
                                            token: token, headers: [("ConsistencyLevel", "eventual")])
            #expect(counted.status == 200)
            #expect(counted.json["@odata.count"] as? Int == filtered.items.count)
        }
    }

    // GET /users/{id | userPrincipalName}; unknown → 404 Request_ResourceNotFound.
    @Test func userByIdOrUserPrincipalName() async throws {
        try await Harness.run(Self.config) { h in
            let tenant = h.firstTenant.id
            let token = try await h.appToken(tenant: tenant)
            let user = try #require(try h.emulator.users(tenant: tenant, limit: 1).first)
            let byID = try await h.graph("/users/\(user.id)", token: token)
            #expect(byID.json["userPrincipalName"] as? String == user.userPrincipalName)
            let byUPN = try await h.graph("/users/\(user.userPrincipalName)", token: token)
            #expect(byUPN.json["id"] as? String == user.id)
            let missing = try await h.graph("/users/nobody@nowhere.example", token: token)
            #expect(missing.status == 404)
            #expect((missing.json["error"] as? [String: Any])?["code"] as? String == "Request_ResourceNotFound")
        }
    }

    // members vs transitiveMembers (nested groups expanded) and the /microsoft.graph.user cast.
    @Test func transitiveMembersExpandNestedGroupsAndCastKeepsUsers() async throws {
        try await Harness.run(Self.config) { h in
            let tenant = h.firstTenant.id
            let token = try await h.appToken(tenant: tenant)
            let outer = try h.emulator.createGroup(tenant: tenant, GroupDraft(displayName: "Outer"))
            let inner = try h.emulator.createGroup(tenant: tenant, GroupDraft(displayName: "Inner"))
            let users = try h.emulator.users(tenant: tenant, limit: 3)
            try h.emulator.addMember(tenant: tenant, group: outer.id, member: users[0].id)
            try h.emulator.addMember(tenant: tenant, group: outer.id, member: inner.id)
            try h.emulator.addMember(tenant: tenant, group: inner.id, member: users[1].id)
            try h.emulator.addMember(tenant: tenant, group: inner.id, member: users[2].id)

            let direct = try await h.allPages("/groups/\(outer.id)/members", token: token)
            #expect(direct.items.count == 2)
            #expect(direct.items.contains { $0["@odata.type"] as? String == "#microsoft.graph.group" })
            let transitive = try await h.allPages("/groups/\(outer.id)/transitiveMembers", token: token)
            #expect(Set(transitive.items.compactMap { $0["id"] as? String }) == [users[0].id, users[1].id, users[2].id, inner.id])
            let usersOnly = try await h.allPages("/groups/\(outer.id)/transitiveMembers/microsoft.graph.user", token: token)
            #expect(Set(usersOnly.items.compactMap { $0["id"] as? String }) == [users[0].id, users[1].id, users[2].id])
            let groups = try await h.allPages("/groups?$filter=\(h.encode("startswith(displayName,'Out')"))", token: token)
            #expect(groups.items.map { $0["id"] as? String } == [outer.id])
        }
    }

    // 401 InvalidAuthenticationToken without a token; 403 Authorization_RequestDenied without the permission
    // (a customer's Teams app holding Chat.Read.All only), 200 once User.Read.All is granted.
    @Test func missingTokenIs401AndMissingPermissionIs403() async throws {
        try await Harness.run(Self.config) { h in
            let tenant = h.firstTenant.id
            let none = try await h.send(.GET, "/v1.0/users")
            #expect(none.status == 401)
            #expect((none.json["error"] as? [String: Any])?["code"] as? String == "InvalidAuthenticationToken")
            let bogus = try await h.graph("/users", token: "not-a-token")
            #expect(bogus.status == 401)

            let appID = "0b9c4a51-6f0e-4d6c-9a77-3f1d2b8e7c10"
            let registered = try await h.admin(.POST, "/tenants/\(tenant)/apps", json: """
                {"appId": "\(appID)", "secret": "teams-secret", "graphPermissions": ["Chat.Read.All"]}
                """)
            #expect(registered.status == 201)
            #expect(registered.json["secret"] == nil, "the admin API never returns secrets")
            let token = try await h.appToken(tenant: tenant, clientID: appID, secret: "teams-secret")
            let denied = try await h.graph("/users", token: token)
            #expect(denied.status == 403)
            let error = try #require(denied.json["error"] as? [String: Any])
            #expect(error["code"] as? String == "Authorization_RequestDenied")
            #expect(error["message"] as? String == "Insufficient privileges to complete the operation.")

            try h.emulator.registerApp(tenant: tenant, AppRegistration(appId: appID, secret: "teams-secret",
                                                                       graphPermissions: ["Chat.Read.All", "User.Read.All"]))
            let allowed = try await h.graph("/users", token: try await h.appToken(tenant: tenant, clientID: appID, secret: "teams-secret"))
            #expect(allowed.status == 200)
        }
    }

    // Teams chats and OneDrive items (Graph v1.0 permission tables): the permission is checked before the item is
    // resolved, so a write to an absent item is 403 without the permission and 404 with it, and changes nothing.
    @Test func chatAndFileRoutesNeedTheirOwnPermissions() async throws {
        try await Harness.run(Self.config) { h in
            let tenant = h.firstTenant.id
            let user = try #require(try h.emulator.users(tenant: tenant, limit: 1).first)
            let appID = "6a1d3c5e-0b2f-4e6a-8c9d-1e2f3a4b5c6d"
            let absent = "00000000-0000-0000-0000-000000000000"
            func token(_ permissions: [String]) async throws -> String {
                try h.emulator.registerApp(tenant: tenant, AppRegistration(appId: appID, secret: "s", graphPermissions: permissions))
                return try await h.appToken(tenant: tenant, clientID: appID, secret: "s")
            }
            func patch(_ path: String, _ token: String) async throws -> Answer {
                try await h.send(.PATCH, "/v1.0" + path, headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                                 body: Array(#"{"policyViolation":{"dlpAction":"none"}}"#.utf8))
            }
            let basic = try await token(["Chat.ReadBasic.All", "Files.Read.All"])
            #expect(try await h.graph("/users/\(user.id)/chats", token: basic).status == 200)
            let denied = try await h.graph("/users/\(user.id)/chats/getAllMessages", token: basic)
            #expect(denied.status == 403 && (denied.json["error"] as? [String: Any])?["code"] as? String == "Authorization_RequestDenied")
            #expect(try await patch("/chats/\(absent)/messages/\(absent)", basic).status == 403)
            #expect(try await h.graph("/users/\(user.id)/drive", token: basic).json["driveType"] as? String == "business")
            #expect(try await patch("/users/\(user.id)/drive/items/\(absent)", basic).status == 403, "Files.Read.All does not allow writes")

            let full = try await token(["Chat.Read.All", "Chat.UpdatePolicyViolation.All", "Files.ReadWrite.All"])
            let messages = try await h.graph("/users/\(user.id)/chats/getAllMessages?model=A", token: full)
            #expect(messages.status == 200 && (messages.json["value"] as? [Any])?.isEmpty == true)
            #expect(try await h.graph("/users/\(user.id)/chats/getAllMessages?model=C", token: full).status == 400)
            #expect(try await patch("/chats/\(absent)/messages/\(absent)", full).status == 404)
            let item = try await patch("/users/\(user.id)/drive/items/\(absent)", full)
            #expect(item.status == 404 && (item.json["error"] as? [String: Any])?["code"] as? String == "itemNotFound")
        }
    }

    @Test func organizationAndDomainsDescribeTheTenant() async throws {
        try await Harness.run(Self.config) { h in
            let tenant = h.firstTenant
            let token = try await h.appToken(tenant: tenant.id)
            let org = try #require(try await h.graph("/organization", token: token).values.first)
            #expect(org["id"] as? String == tenant.id)
            let domains = try await h.graph("/domains", token: token).values
            #expect(domains.first?["id"] as? String == tenant.domain)
        }
    }

    // Inline mode role check: Exchange Administrator in effect (roleAssignments: plain or PIM-active), PIM-active with its
    // schedule (roleAssignmentScheduleInstances), or only PIM-eligible (roleEligibilitySchedules, not in effect).
    @Test func roleAssignmentsAndEligibilitySchedulesListAssignedRoles() async throws {
        try await Harness.run(Self.config) { h in
            let tenant = h.firstTenant.id
            let token = try await h.appToken(tenant: tenant)
            let sp = try #require(try await h.graph("/servicePrincipals?$filter=\(h.encode("appId eq '\(h.clientID)'"))", token: token).values.first?["id"] as? String)
            let filter = h.encode("principalId eq '\(sp)'")
            #expect(try await h.graph("/roleManagement/directory/roleAssignments?$filter=\(filter)", token: token).values.isEmpty)

            let assigned = try await h.admin(.POST, "/tenants/\(tenant)/roles", json: "{\"appId\": \"\(h.clientID)\", \"kind\": \"active\"}")
            #expect(assigned.status == 201)
            let active = try await h.graph("/roleManagement/directory/roleAssignments?$filter=\(filter)", token: token).values
            #expect(active.first?["roleDefinitionId"] as? String == RoleAssignment.exchangeAdministratorRoleID)
            #expect(try await h.graph("/roleManagement/directory/roleEligibilitySchedules?$filter=\(filter)", token: token).values.isEmpty)

            try h.emulator.assignRole(tenant: tenant, appId: h.clientID, kind: .eligible)
            let eligible = try await h.graph("/roleManagement/directory/roleEligibilitySchedules?$filter=\(filter)", token: token).values
            #expect(eligible.first?["principalId"] as? String == sp)
            try h.emulator.unassignRole(tenant: tenant, appId: h.clientID, kind: .active)
            #expect(try await h.graph("/roleManagement/directory/roleAssignments?$filter=\(filter)", token: token).values.isEmpty,
                    "an eligible assignment is not in effect")
            #expect(try await h.graph("/roleManagement/directory/roleAssignmentScheduleInstances?$filter=\(filter)", token: token).values.isEmpty)

            let pim = try await h.admin(.POST, "/tenants/\(tenant)/roles",
                                        json: "{\"appId\": \"\(h.clientID)\", \"kind\": \"pim-active\", \"endDateTime\": \"2027-01-31T00:00:00Z\"}")
            #expect(pim.status == 201)
            #expect(try await h.graph("/roleManagement/directory/roleAssignments?$filter=\(filter)", token: token).values.count == 1)
            let instance = try #require(try await h.graph("/roleManagement/directory/roleAssignmentScheduleInstances?$filter=\(filter)", token: token).values.first)
            #expect(instance["assignmentType"] as? String == "Assigned")
            #expect(instance["endDateTime"] as? String == "2027-01-31T00:00:00Z")
        }
    }
}
