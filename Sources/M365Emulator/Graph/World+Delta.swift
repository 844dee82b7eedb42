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
        let directory = tenant.directory
        let tenantTag = String(tenant.id.prefix(8))
        var since: UInt64 = 0
        var snapshot = directory.version
        var position = 0


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
            guard let f = PageToken.decode(token), f.count == 7, f[0] == "S", f[1] == tenantTag, f[2] == collection,
                  let s = UInt64(f[3]), let snap = UInt64(f[4]), let pos = Int(f[5]) else {
                throw .badRequest("The \\$skiptoken is invalid.")
            }
            since = s
            snapshot = snap
            position = pos
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
            let groups = directory.groups
            let wantsMembers = query.select?.contains("members") ?? false
            let groupSelect = query.select?.filter { $0 != "members" }
            var changes: [Int32: [MembershipChange]] = [:]
            if wantsMembers, since > 0 {
                let log = directory.membershipLog
                var lo = 0, hi = log.count
                while lo < hi { let mid = (lo + hi) / 2; if log[mid].version <= since { lo = mid + 1 } else { hi = mid } }
                for c in log[lo...] { changes[c.group, default: []].append(c) }
            }
            func qualifies(_ g: EmulatedGroup) -> Bool { g.version > since && (since > 0 || g.state == .active) }
            while i < groups.count, written < pageSize {
                let g = groups[i]
                let index = Int32(i)
                i += 1
                guard qualifies(g) else { continue }
                if written > 0 { w.comma() }
                written += 1
                guard g.state == .active else {
                    w.raw("{\"id\":"); w.string(g.id); w.raw(",\"@removed\":{\"reason\":\"deleted\"}}")
                    continue
                }
                var body = JSONWriter()
                g.write(into: &body, select: groupSelect)
                if wantsMembers {
                    body.bytes.removeLast()  // the closing brace
                    body.raw(",\"members@delta\":[")
                    var first = true
                    func member(_ ref: MemberRef, removed: Bool) {
                        if !first { body.comma() }
                        first = false
                        switch ref {
                        case .user(let u):
                            body.raw("{\"@odata.type\":\"#microsoft.graph.user\",\"id\":"); body.string(directory.users[Int(u)].id)
                        case .group(let x):
                            body.raw("{\"@odata.type\":\"#microsoft.graph.group\",\"id\":"); body.string(groups[Int(x)].id)
                        }
                        if removed { body.raw(",\"@removed\":{\"reason\":\"deleted\"}") }
                        body.raw("}")
                    }
                    if since == 0 {
                        for m in g.members { member(m, removed: false) }
                    } else {
                        for c in changes[index] ?? [] { member(c.member, removed: !c.added) }
                    }
                    body.raw("]}")
                }
                w.raw(bytes: body.bytes)
            }
            while i < groups.count, !qualifies(groups[i]) { i += 1 }
            w.raw("]")
            finishDelta(&w, more: i < groups.count, collection: collection, baseURL: baseURL, since: since,
                        snapshot: snapshot, position: i, now: now, select: query.select, tenantTag: tenantTag)
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
                             snapshot: UInt64, position: Int, now: Double, select: [String]?, tenantTag: String) {
        if more {
            let token = PageToken.encode(["S", tenantTag, collection, String(since), String(snapshot), String(position),
                                          select?.joined(separator: ",") ?? ""])
            w.raw(",\"@odata.nextLink\":")
            w.string("\(baseURL)/v1.0/\(collection)/delta?$skiptoken=\(token)")
        } else {
            w.raw(",\"@odata.deltaLink\":")
            w.string(deltaLink(collection, baseURL, since: snapshot, now: now, select: select, tenantTag: tenantTag))
        }
        w.raw("}")
    }

    /// The 410 Gone a reset produces: Location restarts the round from scratch.
    func deltaGone(path: String, baseURL: String) -> GraphError {
        let collection = path.contains("/groups/") ? "groups" : "users"
        return GraphError(status: 410, code: "resyncRequired",
                          message: "Resync required. Replace any local cached copy of the collection and its changes with a fresh delta round from the Location header.",
                          headers: [("Location", "\(baseURL)/v1.0/\(collection)/delta")])
    }
}
