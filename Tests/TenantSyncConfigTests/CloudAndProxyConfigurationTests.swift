import Foundation
import Testing
import TenantSyncConfig
import TenantSyncCore

@Suite("Configuration: national clouds and the outbound proxy")
struct CloudAndProxyConfigurationTests {
    let loader = ConfigurationLoader(environment: [:])

    func parse(_ text: String, environment: [String: String] = [:]) throws(ConfigurationError) -> DaemonConfiguration {
        try ConfigurationLoader(environment: environment).parse(text: text, file: "/etc/tenantsync/tenantsyncd.toml")
    }

    func failure(_ text: String) -> ConfigurationError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    /// Microsoft's national cloud deployment table: authority, Graph, Exchange Online, Management API.
    static let table: [String: [String]] = [
        "usgov": ["https://login.microsoftonline.us", "https://graph.microsoft.us", "https://outlook.office365.us", "https://manage.office365.us"],
        "usgov-dod": ["https://login.microsoftonline.us", "https://dod-graph.microsoft.us", "https://webmail.apps.mil", "https://manage.protection.apps.mil"],
        "china": ["https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn", "https://partner.outlook.cn", "https://manage.office.cn"],
        "global": ["https://login.microsoftonline.com", "https://graph.microsoft.com", "https://outlook.office365.com", "https://manage.office.com"],
    ]

    @Test("cloud sets the four endpoints to the national cloud's hosts", arguments: ["usgov", "usgov-dod", "china", "global"])
    func cloudEndpoints(cloud: String) throws {
        let microsoft = try parse("[microsoft]\ncloud = \"\(cloud)\"\n").microsoft
        #expect(microsoft.cloud.rawValue == cloud)
        #expect([microsoft.authority, microsoft.graph, microsoft.outlook, microsoft.management] == Self.table[cloud])
    }

    @Test("An explicit endpoint key overrides the cloud's host (a gateway or the emulator)")
    func explicitOverride() throws {
        let microsoft = try parse("[microsoft]\ngraph = \"https://graph-gw.example.us\"\ncloud = \"usgov\"\n").microsoft
        #expect(microsoft.graph == "https://graph-gw.example.us")
        #expect(microsoft.authority == "https://login.microsoftonline.us")
    }

    @Test("An endpoint of another cloud than cloud is refused at its line: tokens never cross clouds")
    func mixedCloudsRefused() throws {
        let error = try #require(failure("[microsoft]\ncloud = \"usgov\"\ngraph = \"https://graph.microsoft.com\"\n"))
        #expect(error.line == 3)
        #expect(error.message.contains("global cloud") && error.message.contains("usgov"))
        // L4 and L5 share the authority but not Graph.
        #expect(failure("[microsoft]\ncloud = \"usgov-dod\"\nauthority = \"https://login.microsoftonline.us\"\n") == nil)
        #expect(failure("[microsoft]\ncloud = \"usgov-dod\"\ngraph = \"https://graph.microsoft.us\"\n") != nil)
    }

    @Test("An unknown cloud names the known ones")
    func unknownCloud() throws {
        let error = try #require(failure("[microsoft]\ncloud = \"germany\"\n"))
        #expect(error.line == 2)
        #expect(error.message.contains("usgov-dod") && error.message.contains("china"))
    }

    @Test("proxy, proxy_username, the password file and no_proxy are read; the password is a Secret")
    func proxyRead() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("proxy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "pr0xy-s3cret\n".write(toFile: directory + "/proxy.pw", atomically: true, encoding: .utf8)
        let microsoft = try parse("""
            [microsoft]
            proxy = "http://proxy.example.com:3128"
            proxy_username = "tenantsync"
            proxy_password_file = "\(directory)/proxy.pw"
            no_proxy = [".internal.example.com", "login.microsoftonline.com"]
            """).microsoft
        let proxy = try #require(microsoft.proxy)
        #expect(proxy.host == "proxy.example.com" && proxy.port == 3128 && proxy.username == "tenantsync")
        #expect(proxy.password?.reveal == "pr0xy-s3cret")
        #expect(proxy.noProxy == [".internal.example.com", "login.microsoftonline.com"])
        #expect(!"\(proxy)".contains("pr0xy-s3cret"))
        let lines = microsoft.effectiveEndpointLines.joined(separator: "\n")
        #expect(!lines.contains("pr0xy-s3cret"), "the verbose check prints the proxy password")
        #expect(lines.contains("microsoft.authority = https://login.microsoftonline.com [direct (no_proxy)]"))
        #expect(lines.contains("microsoft.graph = https://graph.microsoft.com [via proxy]"))
    }

    @Test("The proxy password comes from the microsoft-proxy-password credential when no file is named")
    func proxyPasswordCredential() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("creds-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "from-credential".write(toFile: directory + "/microsoft-proxy-password", atomically: true, encoding: .utf8)
        let proxy = try #require(try parse(
            "[microsoft]\nproxy = \"http://10.0.0.8:8080\"\nproxy_username = \"u\"\n", environment: ["CREDENTIALS_DIRECTORY": directory]
        ).microsoft.proxy)
        #expect(proxy.password?.reveal == "from-credential")
    }

    static let badProxies: [String: String] = [
        "proxy = \"https://proxy.example.com:3128\"": "must be an HTTP proxy URL",
        "proxy = \"http://proxy.example.com\"": "with a port",
        "proxy = \"http://alice:hunter2@proxy.example.com:3128\"": "proxy_password_file",
        "no_proxy = [\"a.example.com\"]": "microsoft.proxy is not",
        "proxy = \"http://p.example.com:1\"\nproxy_password_file = \"/x\"": "proxy_username is not",
        "proxy = \"http://p.example.com:1\"\nno_proxy = [\"https://a.example.com\"]": "without scheme or port",
    ]

    @Test("Bad proxy settings are refused with a clear message that never echoes a password", arguments: Array(badProxies.keys))
    func badProxy(line: String) throws {
        let expected = try #require(Self.badProxies[line])
        let error = try #require(failure("[microsoft]\n\(line)\n"))
        #expect(error.message.contains(expected), "\(error.message)")
        #expect(!error.description.contains("hunter2"), "the error echoes the proxy password")
    }

    @Test("Changing the cloud or the proxy needs a restart")
    func restartKeys() throws {
        let running = try parse("")
        let next = try parse("[microsoft]\ncloud = \"china\"\nproxy = \"http://10.0.0.8:8080\"\n")
        let keys = running.keysNeedingRestart(comparedTo: next)
        #expect(keys.contains("microsoft.cloud") && keys.contains("microsoft.proxy") && keys.contains("microsoft.graph"))
    }
}
