import TenantSyncCore

extension DaemonConfiguration.MicrosoftSection {
    /// The effective cloud, endpoints, scopes and proxy, one `key = value` line each (`tenantsyncd --check-config --verbose`).
    ///
    /// Says for each endpoint whether it goes through the proxy; never prints the proxy password.
    public var effectiveEndpointLines: [String] {
        var lines = ["microsoft.cloud = \(cloud.rawValue)"]
        for (key, root) in [("authority", authority), ("graph", graph), ("outlook", outlook), ("management", management)] {
            var route = "direct"
            if let proxy { route = NationalCloud.host(of: root).map(proxy.bypasses(host:)) == true ? "direct (no_proxy)" : "via proxy" }
            lines.append("microsoft.\(key) = \(root) [\(route)]")
        }
        lines.append("microsoft.scopes = \(graph)/.default \(outlook)/.default \(management)/.default")
        if let proxy {
            lines.append("microsoft.proxy = \(proxy)" + (proxy.password == nil ? "" : " (password set)"))
            if !proxy.noProxy.isEmpty { lines.append("microsoft.no_proxy = \(proxy.noProxy.joined(separator: ", "))") }
        } else {
            lines.append("microsoft.proxy = none")
        }
        return lines
    }
}
