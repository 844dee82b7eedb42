/// A parsed OAuth `scope` parameter: one resource, its permission names, and the OpenID extras.
struct ScopeRequest: Equatable {
    var resource: EmulatedResource
    var names: [String]
    var isDefault: Bool
    var offlineAccess: Bool

    static let openIDScopes: Set<String> = ["openid", "profile", "email", "offline_access"]

    /// Parses `https://graph.microsoft.com/.default offline_access`, `User.Read.All`, or the emulator's own
    /// resource URLs (`http://127.0.0.1:PORT/.default` is Graph, `http://127.0.0.1:PORT/outlook/.default` is
    /// Exchange Online, `http://127.0.0.1:PORT/manage/.default` the Office 365 Management APIs), so a client configured with emulator endpoints asks for scopes the usual way.
    static func parse(_ raw: String) throws(AADError) -> ScopeRequest {
        var resource: EmulatedResource?
        var names: [String] = []
        var isDefault = false
        var offline = false
        for item in raw.split(whereSeparator: { $0 == " " || $0 == "+" }).map(String.init) {
            if openIDScopes.contains(item.lowercased()) {
                if item.lowercased() == "offline_access" { offline = true }
                continue
            }
            let itemResource: EmulatedResource
            let name: String
            if let schemeRange = item.range(of: "://") {
                guard let slash = item[schemeRange.upperBound...].lastIndex(of: "/") else {
                    throw .invalidScope(item)
                }
                let prefix = item[..<slash].lowercased()
                name = String(item[item.index(after: slash)...])
                if prefix.contains("outlook") {
                    itemResource = .outlook
                } else if prefix.contains("manage.office.com") || prefix.hasSuffix("/manage") {
                    itemResource = .management
                } else if prefix.contains("graph.microsoft.com") || prefix.hasPrefix("http://127.0.0.1")
                            || prefix.hasPrefix("http://localhost") || prefix.hasPrefix("http://[::1]") {
                    itemResource = .graph
                } else {
                    throw AADError("invalid_resource", 500011, "The resource principal named \(prefix) was not found in the tenant. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.")
                }
            } else {
                itemResource = .graph
                name = item
            }
            if let r = resource, r != itemResource { throw .multipleResources() }
            resource = itemResource
            if name == ".default" { isDefault = true } else if !name.isEmpty { names.append(name) }
        }
        guard let resource else {
            throw AADError("invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope '\(raw)' does not contain a resource permission.")
        }
        return ScopeRequest(resource: resource, names: names, isDefault: isDefault, offlineAccess: offline)
    }
}
