import Foundation

/// The documented cost of an identity-and-access read, to reserve before the answer says what it really cost.
///
/// "Microsoft Graph service-specific throttling limits", Identity and access service limits: GET `users` (the
/// collection) 2, `groups/{id}/members` 3, `groups/{id}/transitiveMembers` 5, other reads 1; `$select` −1,
/// `$expand` +1, `$top` under 20 −1; never below 1.
enum GraphResourceUnits {
    static func estimate(_ url: String) -> Int {
        guard let components = URLComponents(string: url) else { return 1 }
        let segments = components.path.split(separator: "/")
        var cost = 1
        if segments.last == "users", segments.count >= 2, segments[segments.count - 2] == "v1.0" {
            cost = 2
        } else if segments.last == "members" {
            cost = 3
        } else if segments.last == "transitiveMembers" || segments.dropLast().last == "transitiveMembers" {
            cost = 5
        }
        for item in components.queryItems ?? [] {
            switch item.name {
            case "$select": cost -= 1
            case "$expand": cost += 1
            case "$top": if let top = item.value.flatMap(Int.init), top < 20 { cost -= 1 }
            default: break
            }
        }
        return max(cost, 1)
    }
}
