import Foundation
import TOMLKit
import TenantSyncCore

/// `[microsoft] cloud`, `proxy`, `proxy_username`, `proxy_password_file` and `no_proxy`.
extension ConfigurationLoader {
    static let cloudAndProxyKeys = ["cloud", "proxy", "proxy_username", "proxy_password_file", "no_proxy"]
    static let endpointKeys = ["authority", "graph", "outlook", "management"]

    /// Sets the cloud and the four endpoints it implies.
    func readCloud(_ microsoft: TOMLTable, reader: TableReader, into section: inout DaemonConfiguration.MicrosoftSection) throws(ConfigurationError) {
        guard let cloud = try reader.choice(microsoft, "cloud", path: "microsoft.cloud", NationalCloud.self) else { return }
        section.cloud = cloud
        section.authority = cloud.authority
        section.graph = cloud.graph
        section.outlook = cloud.outlook
        section.management = cloud.management
    }

    /// Refuses an explicit endpoint that names another Microsoft cloud than `cloud`.
    ///
    /// A token is asked for at the authority and sent to Graph, Exchange and the Management API; a mix would
    /// send one cloud's token (or scope) to another, which Microsoft refuses at best. Hosts that belong to no
    /// cloud (the emulator, a gateway) are the operator's choice and pass.
    func requireOneCloud(_ microsoft: TOMLTable, reader: TableReader, _ section: DaemonConfiguration.MicrosoftSection) throws(ConfigurationError) {
        guard microsoft["cloud"] != nil else { return }
        let values = [section.authority, section.graph, section.outlook, section.management]
        for (key, value) in zip(Self.endpointKeys, values) where microsoft[key] != nil {
            guard let host = NationalCloud.host(of: value), let owner = NationalCloud.owning(host: host) else { continue }
            // GCC High and DoD share one identity platform (login.microsoftonline.us); everything else is per cloud.
            let allowed = owner == section.cloud || (key == "authority" && NationalCloud.sameCloud(owner, section.cloud))
            guard allowed else {
                throw reader.error(
                    "microsoft.\(key)",
                    "microsoft.\(key) = \"\(value)\" is a host of the \(owner.rawValue) cloud, but cloud = \"\(section.cloud.rawValue)\"; tokens never cross clouds: remove the key or change cloud"
                )
            }
        }
    }

    /// Reads the outbound proxy: `http://HOST:PORT`, a user name, a password file and hosts that bypass it.
    func readProxy(_ microsoft: TOMLTable, reader: TableReader, into section: inout DaemonConfiguration.MicrosoftSection) throws(ConfigurationError) {
        let username = try reader.string(microsoft, "proxy_username", path: "microsoft.proxy_username")
        let passwordFile = try reader.path(microsoft, "proxy_password_file", path: "microsoft.proxy_password_file")
        let noProxy = try reader.strings(microsoft, "no_proxy", path: "microsoft.no_proxy") ?? []
        guard let text = try reader.string(microsoft, "proxy", path: "microsoft.proxy") else {
            for key in ["proxy_username", "proxy_password_file", "no_proxy"] where microsoft[key] != nil {
                throw reader.error("microsoft.\(key)", "microsoft.\(key) is set but microsoft.proxy is not")
            }
            return
        }
        guard let url = URLComponents(string: text), url.scheme?.lowercased() == "http", let host = url.host, !host.isEmpty,
              let port = url.port, (1...65_535).contains(port), url.path.isEmpty || url.path == "/", url.query == nil
        else {
            throw reader.error(
                "microsoft.proxy", "microsoft.proxy = \"\(Self.withoutUserInfo(text))\" must be an HTTP proxy URL with a port, like \"http://proxy.example.com:3128\""
            )
        }
        guard url.user == nil, url.password == nil else {
            // Never echo the URL: it holds a password.
            throw reader.error(
                "microsoft.proxy", "microsoft.proxy must not carry a user name or password; use proxy_username and proxy_password_file"
            )
        }
        if let username, username.isEmpty || username.contains(":") {
            throw reader.error("microsoft.proxy_username", "microsoft.proxy_username must be a non-empty name without \":\"")
        }
        if passwordFile != nil, username == nil {
            throw reader.error("microsoft.proxy_password_file", "microsoft.proxy_password_file is set but microsoft.proxy_username is not")
        }
        for entry in noProxy where entry.isEmpty || entry.contains(where: { $0.isWhitespace || $0 == "/" || $0 == ":" }) {
            throw reader.error("microsoft.no_proxy", "microsoft.no_proxy lists \"\(entry)\"; give host names or domains (\".example.com\"), without scheme or port")
        }
        section.proxy = OutboundProxy(host: host, port: port, username: username, password: nil, noProxy: noProxy)
        section.proxyPasswordFile = passwordFile
    }

    /// A proxy URL fit for an error message: `user:password@` removed.
    static func withoutUserInfo(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://"), let at = text[schemeEnd.upperBound...].firstIndex(of: "@") else { return text }
        return String(text[..<schemeEnd.upperBound]) + String(text[text.index(after: at)...])
    }
}
