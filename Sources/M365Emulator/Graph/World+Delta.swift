import Foundation

/// `users/delta` and `groups/delta` (Graph "Use delta query to track changes" and "delta query for users/groups").
///
/// A round starts at the directory version `snapshot`; it returns every object changed after `since`
/// (all active objects when `since` is 0), page by page through `@odata.nextLink`, and ends with an
/// `@odata.deltaLink` whose token records `snapshot`. Objects changed while a round is paged may come
/// again in the next round: Graph allows duplicates, clients must apply them idempotently.
extension World {
    mutating func delta(_ request: EmulatorRequest, collection: String, tenant: EmulatedTenant, baseURL: String, now: Double) throws(GraphError) -> EmulatorResponse {
        let isUsers = collection == "users"
        let known = isUsers ? EmulatedUser.knownProperties : EmulatedGroup.knownProperties.union(["members"])
        var query = try GraphQuery.parse(request, knownProperties: known, typeName: isUsers ? "user" : "group")
        // `$expand=members` asks for members@delta like `$select=…,members` ("Get incremental changes for groups").
        if !isUsers, let expand = request.query["$expand"] {
            guard expand == "members" else {
                throw .badRequest("Parsing OData Select and Expand failed: only 'members' can be expanded on a group delta.")
            }
            if let select = query.select, !select.contains("members") { query.select = select + ["members"] }
        }
        let directory = tenant.directory
        let tenantTag = String(tenant.id.prefix(8))
        var since: UInt64 = 0
        var snapshot = directory.version
        var position = 0
        var resume = MemberResume()

        if let token = query.deltaToken {
            if token == "latest" {
                // $deltatoken=latest: no objects, just a deltaLink from now on.
                var w = JSONWriter()
                w.raw("{\"@odata.context\":"); w.string("\(baseURL)/v1.0/$metadata#\(collection)")
                w.raw(",\"value\":[],\"@odata.deltaLink\":")
                w.string(deltaLink(collection, baseURL, since: directory.version, now: now, select: query.select, tenantTag: tenantTag))
                w.raw("}")
                return .json(200, w)
            }
            guard let f = PageToken.decode(token), f.count == 6, f[0] == "D", f[1] == tenantTag, f[2] == collection,
                  let s = UInt64(f[3]), let issued = Double(f[4]) else {
                throw .badRequest("The \\$deltatoken is invalid.")
            }
            // Delta links of identity resources live 7 days; past that Graph answers 400 syncStateNotFound
            // ("Duration of change tracking tokens for identity and education resources", Microsoft 365 Dev Blog).
            if now - issued > Double(tenant.settings.deltaTokenMaxAgeSeconds) {
                throw GraphError(status: 400, code: "syncStateNotFound",
                                 message: "The sync state generation is not found. The delta token is expired and data must be synchronized again.")
            }
            since = s
            query.select = f[5].isEmpty ? nil : f[5].split(separator: ",").map(String.init)
        } else if let token = query.skipToken {
            guard let f = PageToken.decode(token), f.count == 9, f[0] == "S", f[1] == tenantTag, f[2] == collection,
                  let s = UInt64(f[3]), let snap = UInt64(f[4]), let pos = Int(f[5]),
                  let offset = Int(f[7]), let version = UInt64(f[8]) else {
                throw .badRequest("The \\$skiptoken is invalid.")
            }
            since = s
            snapshot = snap
            position = pos
            resume = MemberResume(offset: offset, groupVersion: version)
            query.select = f[6].isEmpty ? nil : f[6].split(separator: ",").map(String.init)
        }
        let (pageSize, preferenceApplied) = query.pageSize(request)
        var w = JSONWriter(capacity: pageSize * 330 + 256)
        w.raw("{\"@odata.context\":"); w.string("\(baseURL)/v1.0/$metadata#\(collection)")
        w.raw(",\"value\":[")
        var written = 0
        var i = position
        if isUsers {
            let users = directory.users
            func qualifies(_ u: EmulatedUser) -> Bool { u.version > since && (since > 0 || u.state == .active) }
            while i < users.count, written < pageSize {
                let u = users[i]
                i += 1
                guard qualifies(u) else { continue }
                if written > 0 { w.comma() }
                written += 1
                switch u.state {
                case .active: u.write(into: &w, select: query.select)
                case .softDeleted:
                    // "changed": deleted but restorable (recycle bin); "deleted": gone for good.
                    w.raw("{\"id\":"); w.string(u.id); w.raw(",\"@removed\":{\"reason\":\"changed\"}}")
                case .hardDeleted:
                    w.raw("{\"id\":"); w.string(u.id); w.raw(",\"@removed\":{\"reason\":\"deleted\"}}")
                }
            }
            while i < users.count, !qualifies(users[i]) { i += 1 }
            w.raw("]")
            finishDelta(&w, more: i < users.count, collection: collection, baseURL: baseURL, since: since,
                        snapshot: snapshot, position: i, now: now, select: query.select, tenantTag: tenantTag)
        } else {
            try groupsDeltaPage(&w, query: query, tenant: tenant, since: since, snapshot: snapshot, position: position,
                                resume: resume, pageSize: pageSize, baseURL: baseURL, now: now, tenantTag: tenantTag)
        }
        tenant.count("graph.delta")
        var response = EmulatorResponse.json(200, w)
        if preferenceApplied { response.headers.append(("Preference-Applied", "odata.maxpagesize=\(pageSize)")) }
        return response
    }

    private func deltaLink(_ collection: String, _ baseURL: String, since: UInt64, now: Double, select: [String]?, tenantTag: String) -> String {
        let token = PageToken.encode(["D", tenantTag, collection, String(since), String(Int(now)), select?.joined(separator: ",") ?? ""])
        return "\(baseURL)/v1.0/\(collection)/delta?$deltatoken=\(token)"
    }

    private func finishDelta(_ w: inout JSONWriter, more: Bool, collection: String, baseURL: String, since: UInt64,
                             snapshot: UInt64, position: Int, now: Double, select: [String]?, tenantTag: String,
                             resume: MemberResume = MemberResume()) {
        if more {
            let token = PageToken.encode(["S", tenantTag, collection, String(since), String(snapshot), String(position),
                                          select?.joined(separator: ",") ?? "", String(resume.offset), String(resume.groupVersion)])
            w.raw(",\"@odata.nextLink\":")
            w.string("\(baseURL)/v1.0/\(collection)/delta?$skiptoken=\(token)")
        } else {
            w.raw(",\"@odata.deltaLink\":")
            w.string(deltaLink(collection, baseURL, since: snapshot, now: now, select: select, tenantTag: tenantTag))
        }
        w.raw("}")
    }

    /// Where a page stopped inside one group's members: the next page repeats the group with the rest.
    struct MemberResume {
        /// Members of the group at `position` already sent.
        var offset = 0
        /// The group's version when they were sent: if it changed since, the full list is sent again from the
        /// start (duplicates are allowed in delta; a shifted list could otherwise skip a member).
        var groupVersion: UInt64 = 0
    }

    /// One page of `groups/delta`. With members wanted (`$select` naming `members`, `$expand=members`, or no
    /// `$select` at all), each group carries `members@delta`: every member in the first round, the additions and
    /// removals (`@removed`) after it; a group with none carries no such property. A page holds at most
    /// `pageSize` group objects and `deltaMembersPerPage` member entries: a larger membership ends the page and
    /// the same group object comes again on the next page with more members ("Get incremental changes for
    /// groups", section "Paging through members in a large group").
    private func groupsDeltaPage(_ w: inout JSONWriter, query: GraphQuery, tenant: EmulatedTenant, since: UInt64, snapshot: UInt64,
                                 position: Int, resume: MemberResume, pageSize: Int, baseURL: String, now: Double,
                                 tenantTag: String) throws(GraphError) {
        let directory = tenant.directory
        let groups = directory.groups
        let wantsMembers = query.select?.contains("members") ?? true
        let groupSelect = query.select?.filter { $0 != "members" }
        let memberCap = max(1, tenant.settings.deltaMembersPerPage)
        var changes: [Int32: [MembershipChange]] = [:]
        if wantsMembers, since > 0 {
            let log = directory.membershipLog
            var lo = 0, hi = log.count
            while lo < hi { let mid = (lo + hi) / 2; if log[mid].version <= since { lo = mid + 1 } else { hi = mid } }
            for c in log[lo...] { changes[c.group, default: []].append(c) }
        }
        func qualifies(_ g: EmulatedGroup) -> Bool { g.version > since && (since > 0 || g.state == .active) }
        var written = 0
        var membersWritten = 0
        var i = position
        var stoppedInside: MemberResume?
        while i < groups.count, written < pageSize {
            let g = groups[i]
            let index = Int32(i)
            guard qualifies(g) else { i += 1; continue }
            guard g.state == .active else {
                if written > 0 { w.comma() }
                written += 1
                w.raw("{\"id\":"); w.string(g.id); w.raw(",\"@removed\":{\"reason\":\"deleted\"}}")
                i += 1
                continue
            }
            let groupChanges = since > 0 ? changes[index] ?? [] : []
            let count = !wantsMembers ? 0 : since == 0 ? g.members.count : groupChanges.count
            var start = 0
            if i == position, resume.offset > 0, since > 0 || g.version == resume.groupVersion {
                start = min(resume.offset, count)
            }
            let room = memberCap - membersWritten
            if count > start, room == 0 {
                stoppedInside = MemberResume(offset: start, groupVersion: g.version)
                break
            }
            let end = min(count, start + room)
            if written > 0 { w.comma() }
            written += 1
            var body = JSONWriter()
            g.write(into: &body, select: groupSelect)
            if end > start {
                body.bytes.removeLast()  // the closing brace
                body.raw(",\"members@delta\":[")
                for k in start..<end {
                    if k > start { body.comma() }
                    let (ref, removed) = since == 0 ? (g.members[k], false) : (groupChanges[k].member, !groupChanges[k].added)
                    switch ref {
                    case .user: body.raw("{\"@odata.type\":\"#microsoft.graph.user\",\"id\":")
                    case .group: body.raw("{\"@odata.type\":\"#microsoft.graph.group\",\"id\":")
                    case .other(let o):
                        body.raw("{\"@odata.type\":"); body.string("#microsoft.graph.\(directory.others[Int(o)].type)")
                        body.raw(",\"id\":")
                    }
                    body.string(directory.id(of: ref))
                    if removed { body.raw(",\"@removed\":{\"reason\":\"deleted\"}") }
                    body.raw("}")
                }
                body.raw("]}")
                membersWritten += end - start
            }
            w.raw(bytes: body.bytes)
            if end < count {
                stoppedInside = MemberResume(offset: end, groupVersion: g.version)
                break
            }
            i += 1
        }
        if stoppedInside == nil { while i < groups.count, !qualifies(groups[i]) { i += 1 } }
        w.raw("]")
        finishDelta(&w, more: stoppedInside != nil || i < groups.count, collection: "groups", baseURL: baseURL, since: since,
                    snapshot: snapshot, position: i, now: now, select: query.select, tenantTag: tenantTag,
                    resume: stoppedInside ?? MemberResume())
    }

    /// The 410 Gone a reset produces: Location restarts the round from scratch.
    func deltaGone(path: String, baseURL: String) -> GraphError {
        let collection = path.contains("/groups/") ? "groups" : "users"
        return GraphError(status: 410, code: "resyncRequired",
                          message: "Resync required. Replace any local cached copy of the collection and its changes with a fresh delta round from the Location header.",
                          headers: [("Location", "\(baseURL)/v1.0/\(collection)/delta")])
    }
}
