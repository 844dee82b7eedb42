import Testing
import TenantSyncCore

@Suite("Outbound proxy bypass (no_proxy) and national cloud hosts")
struct OutboundProxyTests {
    let proxy = OutboundProxy(host: "proxy", port: 3128, noProxy: [".corp.example", "login.microsoftonline.us", "*.apps.mil"])

    @Test("no_proxy matches exact hosts and domain suffixes, case-insensitively, and nothing else")
    func bypass() {
        #expect(proxy.bypasses(host: "LOGIN.microsoftonline.us"))
        #expect(proxy.bypasses(host: "gw.corp.example"))
        #expect(proxy.bypasses(host: "corp.example"))
        #expect(proxy.bypasses(host: "webmail.apps.mil"))
        #expect(!proxy.bypasses(host: "graph.microsoft.us"))
        #expect(!proxy.bypasses(host: "evilcorp.example"), "a suffix must match at a dot")
        #expect(!proxy.bypasses(host: "login.microsoftonline.us.evil.example"))
        #expect(OutboundProxy(host: "p", port: 1, noProxy: ["*"]).bypasses(host: "anything"))
    }

    @Test("The description never shows the password")
    func description() {
        let withPassword = OutboundProxy(host: "p.example", port: 8080, username: "u", password: Secret("pw-123"))
        #expect("\(withPassword)" == "http://u@p.example:8080")
    }

    @Test("Every host of a cloud belongs to that cloud only (the US authority is shared by L4 and L5)")
    func cloudHosts() {
        for cloud in NationalCloud.allCases {
            for root in cloud.roots {
                let owner = NationalCloud.owning(host: NationalCloud.host(of: root) ?? "")
                #expect(owner.map { NationalCloud.sameCloud($0, cloud) } == true, "\(root) is not a host of \(cloud)")
            }
        }
        #expect(NationalCloud.owning(host: "127.0.0.1") == nil)
        #expect(NationalCloud.host(of: "https://user@Graph.Microsoft.US:443/v1.0") == "graph.microsoft.us")
    }
}
