import Foundation

/// Microsoft Graph v1.0: bearer check, permission check, throttling, then the directory endpoints.
extension World {
    static let userPermissions = ["User.Read.All", "User.ReadBasic.All", "User.ReadWrite.All", "Directory.Read.All",
                                  "Directory.ReadWrite.All"]
    static let groupPermissions = ["Group.Read.All", "GroupMember.Read.All", "Group.ReadWrite.All",
                                   "Directory.Read.All", "Directory.ReadWrite.All"]
    static let rolePermissions = ["RoleManagement.Read.Directory", "RoleManagement.Read.All",
                                  "RoleManagement.ReadWrite.Directory", "Directory.Read.All"]
    static let domainPermissions = ["Domain.Read.All", "Directory.Read.All", "Domain.ReadWrite.All"]
    static let applicationPermissions = ["Application.Read.All", "Directory.Read.All", "Application.ReadWrite.All"]

    /// Resolves a bearer token to its record, or the Graph 401 a client would get.
    func authenticate(_ request: EmulatorRequest, resource: EmulatedResource, now: Double) -> Result<AccessTokenRecord, GraphError> {
        guard let header = request.header("authorization"), header.lowercased().hasPrefix("bearer "),
              case let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces), !token.isEmpty else {
            return .failure(.emptyToken)
        }
        guard let record = accessTokens[token], !record.revoked else { return .failure(.invalidToken) }
        guard now < record.expiresAt else { return .failure(.expiredToken) }
        guard record.resource == resource else { return .failure(.wrongAudience) }
        if let revocation = sessionRevocation(of: record) { return .failure(.claimsChallenge(revocation: revocation)) }
        return .success(record)
    }

    /// The tenant a Graph request's token belongs to (for fault matching), without side effects.
    func tenantOfBearer(_ request: EmulatorRequest) -> Int? {
        guard let header = request.header("authorization"), header.lowercased().hasPrefix("bearer ") else { return nil }
        return accessTokens[String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)]?.tenant
    }

    mutating func handleGraph(_ request: EmulatorRequest, baseURL: String, now: Double) throws(GraphError) -> EmulatorResponse {
        let token = try authenticate(request, resource: .graph, now: now).get()
        let tenant = tenants[token.tenant]
        tenant.count("graph")
        let path = Array(request.segments.dropFirst())  // after "v1.0"
        guard let first = path.first else { throw .noRoute }
        tenant.count("graph.\(first)")

        // Route → required permission (any of).
        let required: [String]
        let chatsOrFiles = Self.chatsAndFilesPermissions(path: path, method: request.method)
        switch first {
        case _ where chatsOrFiles != nil: required = chatsOrFiles ?? []
        case "users": required = Self.userPermissions
        case "groups": required = Self.groupPermissions
        case "roleManagement": required = Self.rolePermissions
        case "domains": required = Self.domainPermissions
        case "servicePrincipals": required = Self.applicationPermissions
        case "organization": required = []
        default:
            throw GraphError(status: 400, code: "BadRequest", message: "Resource not found for the segment '\(first)'.")
        }
        if !required.isEmpty, !token.permissions.contains(where: { required.contains($0) }) {
            tenant.count("graph.forbidden")
            throw .insufficientPrivileges
        }
        let app = tenant.app(token.appID)
        // Evaluation budget (metered APIs answer 402 Payment Required once the allowance is spent).
        if let limit = app?.registration.monthlyCallLimit {
            let month = String(EmulatorTime.iso(now).prefix(7))
            var state = app!
            if state.monthKey != month { state.monthKey = month; state.callsThisMonth = 0 }
            state.callsThisMonth += 1
            tenant.apps[token.appID.lowercased()] = state
            if state.callsThisMonth > limit {
                throw GraphError(status: 402, code: "PaymentRequired", message: "The monthly API call allowance of this evaluation app is used up (\(limit) calls).")
            }
        }
        // Identity and access throttling (see World+Throttling), charged before the work; chats and files belong
        // to other services with limits of their own, which the emulator does not meter.
        let charge = chatsOrFiles == nil
            ? chargeGraphRequest(request, path: path, appID: token.appID, tenant: tenant, now: now)
            : ThrottleDecision(cost: 0)
        if let refusal = charge.refusal { throw refusal }

        var response: EmulatorResponse
        do throws(GraphError) {
            switch first {
            case _ where chatsOrFiles != nil: response = try chatsAndFiles(request, path: path, tenant: tenant, baseURL: baseURL)
            case "users": response = try users(request, path: path, tenant: tenant, baseURL: baseURL, now: now)
            case "groups": response = try groups(request, path: path, tenant: tenant, baseURL: baseURL, now: now)
            case "organization": response = organization(tenant: tenant, baseURL: baseURL)
            case "domains": response = domains(tenant: tenant, baseURL: baseURL)
            case "roleManagement": response = try roles(request, path: path, tenant: tenant, baseURL: baseURL)
            default: response = try servicePrincipals(request, tenant: tenant, baseURL: baseURL)
            }
            response.headers.append(("request-id", RandomMaterial.guid()))
            if let id = request.clientRequestID { response.headers.append(("client-request-id", id)) }
        } catch {
            // A metered request that fails (404, 400 …) still spent its resource units and says so.
            response = error.response(now: now, clientRequestID: request.clientRequestID)
        }
        response.headers += charge.headers
        return response
    }

    // MARK: Users

    private func userMatches(_ u: EmulatedUser, _ query: GraphQuery) -> Bool {
        guard u.state == .active else { return false }
        for clause in query.filter {
            let value: String?
            switch clause.property {
            case "displayName": value = u.displayName
            case "userPrincipalName": value = u.userPrincipalName
            case "mail": value = u.mail
            case "givenName": value = u.givenName
            case "surname": value = u.surname
            case "id": value = u.id
            case "accountEnabled": value = u.accountEnabled ? "true" : "false"
            default: value = nil
            }
            guard let value else { return false }
            switch clause.operation {
            case .startsWith: if !value.lowercased().hasPrefix(clause.value.lowercased()) { return false }
            case .equals: if value.lowercased() != clause.value.lowercased() { return false }
            }
        }
        if let search = query.search {
            let parts = search.split(separator: ":", maxSplits: 1)
            let needle = (parts.count == 2 ? parts[1] : parts[0]).lowercased()
            if !u.displayName.lowercased().contains(needle) && !u.userPrincipalName.lowercased().contains(needle) { return false }
        }
        return true
    }

    private func checkFilterProperties(_ query: GraphQuery, allowed: Set<String>, typeName: String) throws(GraphError) {
        for clause in query.filter where !allowed.contains(clause.property) {
            throw .unsupportedQuery("Unsupported or invalid query filter clause specified for property '\(clause.property)' of resource '\(typeName)'.")
        }
    }

    private mutating func users(_ request: EmulatorRequest, path: [String], tenant: EmulatedTenant, baseURL: String, now: Double) throws(GraphError) -> EmulatorResponse {
        let directory = tenant.directory
        if path.count >= 2, path[1] == "delta" || path[1] == "microsoft.graph.delta()" || path[1] == "microsoft.graph.delta" {
            return try delta(request, collection: "users", tenant: tenant, baseURL: baseURL, now: now)
        }
        let query = try GraphQuery.parse(request, knownProperties: EmulatedUser.knownProperties, typeName: "user")
        if path.count == 2 {
            guard let i = directory.userIndex(idOrUPN: path[1]), directory.users[i].state == .active else {
                throw .notFound(path[1])
            }
            var w = JSONWriter(capacity: 512)
            w.raw("{\"@odata.context\":")
            w.string("\(baseURL)/v1.0/$metadata#users/$entity")
            w.comma()
            var body = JSONWriter()
            directory.users[i].write(into: &body, select: query.select)
            w.raw(bytes: Array(body.bytes.dropFirst()))
            return .json(200, w)
        }
        guard path.count == 1 else { throw .noRoute }
        try checkFilterProperties(query, allowed: ["displayName", "userPrincipalName", "mail", "givenName", "surname", "id", "accountEnabled"], typeName: "User")
        let users = directory.users
        return try listPage(request, query: query, collectionPath: "users", context: "users", tenant: tenant,
                            baseURL: baseURL, total: users.count,
                            matches: { userMatches(users[$0], query) },
                            write: { users[$0].write(into: &$1, select: query.select) })
    }

    /// Writes one page of a collection: `@odata.context`, optional `@odata.count`, `value`, and an opaque `@odata.nextLink`.
    private func listPage(_ request: EmulatorRequest, query: GraphQuery, collectionPath: String, context: String,
                          tenant: EmulatedTenant, baseURL: String, total: Int,
                          matches: (Int) -> Bool, write: (Int, inout JSONWriter) -> Void) throws(GraphError) -> EmulatorResponse {
        var start = 0
        if let token = query.skipToken {
            guard let fields = PageToken.decode(token), fields.count == 3, fields[0] == "L",
                  fields[1] == tenant.id.prefix(8).description, let position = Int(fields[2]), position >= 0 else {
                throw .badRequest("The \\$skiptoken is invalid or has expired.")
            }
            start = position
        }
        let (pageSize, _) = query.pageSize(request)
        var w = JSONWriter(capacity: pageSize * 330 + 256)
        w.raw("{\"@odata.context\":")
        w.string("\(baseURL)/v1.0/$metadata#\(context)")
        if query.count {
            var n = 0
            for i in 0..<total where matches(i) { n += 1 }
            w.raw(",\"@odata.count\":"); w.int(n)
        }
        w.raw(",\"value\":[")
        var i = start
        var written = 0
        while i < total, written < pageSize {
            if matches(i) {
                if written > 0 { w.comma() }
                write(i, &w)
                written += 1
            }
            i += 1
        }
        w.raw("]")
        // Peek for one more match so the last page carries no nextLink.
        while i < total, !matches(i) { i += 1 }
        if i < total {
            var params: [String] = []
            for key in ["$top", "$select", "$filter", "$count", "$search"] {
                if let v = request.query[key] { params.append("\(key)=\(FormDecoding.encode(v))") }
            }
            params.append("$skiptoken=\(PageToken.encode(["L", String(tenant.id.prefix(8)), String(i)]))")
            w.raw(",\"@odata.nextLink\":")
            w.string("\(baseURL)/v1.0/\(collectionPath)?" + params.joined(separator: "&"))
        }
        w.raw("}")
        return .json(200, w)
    }

    // MARK: Groups

    private func groupMatches(_ g: EmulatedGroup, _ query: GraphQuery) -> Bool {
        guard g.state == .active else { return false }
        for clause in query.filter {
            let value: String?
            switch clause.property {
            case "displayName": value = g.displayName
            case "mail": value = g.mail
            case "mailNickname": value = g.mailNickname
            case "id": value = g.id
            default: value = nil
            }
            guard let value else { return false }
            switch clause.operation {
            case .startsWith: if !value.lowercased().hasPrefix(clause.value.lowercased()) { return false }
            case .equals: if value.lowercased() != clause.value.lowercased() { return false }
            }
        }
        if let search = query.search {
            let parts = search.split(separator: ":", maxSplits: 1)
            let needle = (parts.count == 2 ? parts[1] : parts[0]).lowercased()
            if !g.displayName.lowercased().contains(needle) { return false }
        }
        return true
    }

    private mutating func groups(_ request: EmulatorRequest, path: [String], tenant: EmulatedTenant, baseURL: String, now: Double) throws(GraphError) -> EmulatorResponse {
        let directory = tenant.directory
        if path.count >= 2, path[1] == "delta" || path[1] == "microsoft.graph.delta()" || path[1] == "microsoft.graph.delta" {
            return try delta(request, collection: "groups", tenant: tenant, baseURL: baseURL, now: now)
        }
        if path.count == 1 {
            let query = try GraphQuery.parse(request, knownProperties: EmulatedGroup.knownProperties, typeName: "group")
            try checkFilterProperties(query, allowed: ["displayName", "mail", "mailNickname", "id"], typeName: "Group")
            let groups = directory.groups
            return try listPage(request, query: query, collectionPath: "groups", context: "groups", tenant: tenant,
                                baseURL: baseURL, total: groups.count,
                                matches: { groupMatches(groups[$0], query) },
                                write: { groups[$0].write(into: &$1, select: query.select) })
        }
        guard let g = directory.groupIndex(id: path[1]), directory.groups[g].state == .active else {
            throw .notFound(path[1])
        }
        if path.count == 2 {
            let query = try GraphQuery.parse(request, knownProperties: EmulatedGroup.knownProperties, typeName: "group")
            var w = JSONWriter()
            w.raw("{\"@odata.context\":")
            w.string("\(baseURL)/v1.0/$metadata#groups/$entity")
            w.comma()
            var body = JSONWriter()
            directory.groups[g].write(into: &body, select: query.select)
            w.raw(bytes: Array(body.bytes.dropFirst()))
            return .json(200, w)
        }
        guard path[2] == "members" || path[2] == "transitiveMembers", path.count <= 4 else { throw .noRoute }
        let usersOnly: Bool
        if path.count == 4 {
            guard path[3] == "microsoft.graph.user" else { throw .noRoute }
            usersOnly = true
        } else {
            usersOnly = false
        }
        let query = try GraphQuery.parse(request, knownProperties: EmulatedUser.knownProperties.union(EmulatedGroup.knownProperties),
                                         typeName: usersOnly ? "user" : "directoryObject")
        var members = directory.members(of: g, transitive: path[2] == "transitiveMembers")
        if usersOnly {
            members = members.filter { if case .user = $0 { return true } else { return false } }
        }
        let users = directory.users
        let groups = directory.groups
        let others = directory.others
        let select = query.select
        let memberQuery = GraphQuery(select: select, top: query.top, count: query.count, filter: query.filter,
                                     search: query.search, skipToken: query.skipToken)
        return try listPage(
            request, query: memberQuery, collectionPath: path.joined(separator: "/"),
            context: usersOnly ? "users" : "directoryObjects", tenant: tenant, baseURL: baseURL, total: members.count,
            matches: { i in
                switch members[i] {
                case .user(let u): return userMatches(users[Int(u)], memberQuery)
                case .group(let x): return groupMatches(groups[Int(x)], memberQuery)
                case .other: return memberQuery.filter.isEmpty && memberQuery.search == nil
                }
            },
            write: { i, w in
                var body = JSONWriter()
                switch members[i] {
                case .user(let u):
                    users[Int(u)].write(into: &body, select: select.map { $0.filter(EmulatedUser.knownProperties.contains) })
                    if !usersOnly { w.raw("{\"@odata.type\":\"#microsoft.graph.user\",") } else { w.raw("{") }
                case .group(let x):
                    groups[Int(x)].write(into: &body, select: select.map { $0.filter(EmulatedGroup.knownProperties.contains) })
                    w.raw("{\"@odata.type\":\"#microsoft.graph.group\",")
                case .other(let o):
                    others[Int(o)].write(into: &w)
                    return
                }
                w.raw(bytes: Array(body.bytes.dropFirst()))
            })
    }

    // MARK: Organization, domains, roles, service principals

    private func organization(tenant: EmulatedTenant, baseURL: String) -> EmulatorResponse {
        var w = JSONWriter()
        w.raw("{\"@odata.context\":"); w.string("\(baseURL)/v1.0/$metadata#organization")
        w.raw(",\"value\":[{")
        w.key("id"); w.string(tenant.id); w.comma()
        w.key("displayName"); w.string(tenant.displayName); w.comma()
        w.key("tenantType"); w.string("AAD"); w.comma()
        w.key("verifiedDomains"); w.raw("[{")
        w.key("capabilities"); w.string("Email, OfficeCommunicationsOnline"); w.comma()
        w.key("isDefault"); w.bool(true); w.comma()
        w.key("isInitial"); w.bool(true); w.comma()
        w.key("name"); w.string(tenant.domain); w.comma()
        w.key("type"); w.string("Managed")
        w.raw("}]}]}")
        return .json(200, w)
    }

    private func domains(tenant: EmulatedTenant, baseURL: String) -> EmulatorResponse {
        var w = JSONWriter()
        w.raw("{\"@odata.context\":"); w.string("\(baseURL)/v1.0/$metadata#domains")
        w.raw(",\"value\":[{")
        w.key("id"); w.string(tenant.domain); w.comma()
        w.key("authenticationType"); w.string("Managed"); w.comma()
        w.key("isDefault"); w.bool(true); w.comma()
        w.key("isInitial"); w.bool(true); w.comma()
        w.key("isRoot"); w.bool(true); w.comma()
        w.key("isVerified"); w.bool(true); w.comma()
        w.key("supportedServices"); w.raw("[\"Email\",\"OfficeCommunicationsOnline\"]")
        w.raw("}]}")
        return .json(200, w)
    }

    private func roles(_ request: EmulatorRequest, path: [String], tenant: EmulatedTenant, baseURL: String) throws(GraphError) -> EmulatorResponse {
        guard path.count == 3, path[1] == "directory",
              ["roleAssignments", "roleEligibilitySchedules", "roleAssignmentScheduleInstances"].contains(path[2]) else { throw .noRoute }
        let eligible = path[2] == "roleEligibilitySchedules"
        let scheduleInstances = path[2] == "roleAssignmentScheduleInstances"
        let filter = try request.query["$filter"].map { text throws(GraphError) in try GraphQuery.parseFilter(text, typeName: path[2]) } ?? []
        for clause in filter where !["principalId", "roleDefinitionId"].contains(clause.property) || clause.operation != .equals {
            throw .unsupportedQuery("Unsupported or invalid query filter clause specified for property '\(clause.property)' of resource '\(path[2])'.")
        }
        // roleAssignments: every assignment in effect; schedule instances: the active ones PIM manages; eligibility
        // schedules: the eligible ones.
        let selected = tenant.roleAssignments.filter { a in
            let listed = eligible ? a.kind == .eligible : scheduleInstances ? a.kind == .pimActive : a.isInEffect
            guard listed else { return false }
            return filter.allSatisfy { c in
                (c.property == "principalId" ? a.principalId : a.roleDefinitionId).lowercased() == c.value.lowercased()
            }
        }
        var w = JSONWriter()
        w.raw("{\"@odata.context\":"); w.string("\(baseURL)/v1.0/$metadata#roleManagement/directory/\(path[2])")
        w.raw(",\"value\":[")
        for (i, a) in selected.enumerated() {
            if i > 0 { w.comma() }
            w.raw("{")
            w.key("id"); w.string(a.id); w.comma()
            w.key("principalId"); w.string(a.principalId); w.comma()
            w.key("roleDefinitionId"); w.string(a.roleDefinitionId); w.comma()
            w.key("directoryScopeId"); w.string("/")
            if eligible {
                w.comma()
                w.key("memberType"); w.string("Direct"); w.comma()
                w.key("status"); w.string("Provisioned"); w.comma()
                w.key("scheduleInfo"); w.raw("{\"startDateTime\":null,\"expiration\":{\"type\":\"noExpiration\",\"endDateTime\":null,\"duration\":null}}")
            } else if scheduleInstances {
                w.comma()
                w.key("assignmentType"); w.string("Assigned"); w.comma()
                w.key("memberType"); w.string("Direct"); w.comma()
                w.key("startDateTime"); w.raw("null"); w.comma()
                w.key("endDateTime")
                if let end = a.endDateTime { w.string(end) } else { w.raw("null") }
            }
            w.raw("}")
        }
        w.raw("]}")
        return .json(200, w)
    }

    private func servicePrincipals(_ request: EmulatorRequest, tenant: EmulatedTenant, baseURL: String) throws(GraphError) -> EmulatorResponse {
        let filter = try request.query["$filter"].map { text throws(GraphError) in try GraphQuery.parseFilter(text, typeName: "servicePrincipal") } ?? []
        let apps = tenant.apps.values.sorted { $0.registration.appId < $1.registration.appId }.filter { app in
            filter.allSatisfy { c in
                c.property == "appId" ? app.registration.appId.lowercased() == c.value.lowercased()
                    : c.property == "id" ? app.servicePrincipalID == c.value.lowercased() : false
            }
        }
        var w = JSONWriter()
        w.raw("{\"@odata.context\":"); w.string("\(baseURL)/v1.0/$metadata#servicePrincipals")
        w.raw(",\"value\":[")
        for (i, app) in apps.enumerated() {
            if i > 0 { w.comma() }
            w.raw("{")
            w.key("id"); w.string(app.servicePrincipalID); w.comma()
            w.key("appId"); w.string(app.registration.appId); w.comma()
            w.key("displayName"); w.optionalString(app.registration.displayName)
            w.raw("}")
        }
        w.raw("]}")
        return .json(200, w)
    }
}
