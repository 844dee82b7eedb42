/// The resource-unit cost of a Microsoft Graph identity request.
///
/// From "Microsoft Graph service-specific throttling limits", section "Identity and access service limits":
/// base costs per request path (`GET users` 2, `GET groups/{id}/members` 3, `GET groups/{id}/transitiveMembers` 5,
/// any path not listed 1), then `$select` −1, `$expand` +1, `$top` below 20 −1, and a cost never below 1.
/// The table lists the collection `users` only, so `users/{id}` and `users/delta` cost the default 1.
enum ResourceUnitCost {
    /// Cost of one request; `path` is the segments after `v1.0`, `query` the OData options as sent.
    static func of(method: String, path: [String], query: [String: String]) -> Int {
        var cost = base(method: method, path: path)
        if query["$select"] != nil { cost -= 1 }
        if query["$expand"] != nil { cost += 1 }
        if let top = query["$top"].flatMap(Int.init), top < 20 { cost -= 1 }
        return max(1, cost)
    }

    static func base(method: String, path: [String]) -> Int {
        guard method == "GET", let first = path.first else { return 1 }
        switch first {
        case "users" where path.count == 1: return 2
        case "applications" where path.count == 1: return 2
        case "subscribedSkus": return 3
        case "oauth2PermissionGrants" where path.count <= 2: return 2
        case "servicePrincipals" where path.count == 3 && path[2] == "appRoleAssignments": return 2
        case "groups" where path.count >= 3:
            switch path[2] {
            case "members": return 3
            case "transitiveMembers": return 5
            default: return 1
            }
        default: return 1
        }
    }
}
