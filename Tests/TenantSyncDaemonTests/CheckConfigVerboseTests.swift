import Foundation
import Testing

/// `tenantsyncd --check-config --verbose` with the real binary: the effective cloud, endpoints and proxy.
@Suite("tenantsyncd --check-config --verbose")
struct CheckConfigVerboseTests {
    @Test("Prints the national cloud's endpoints and scopes, the proxy route of each, and never the proxy password")
    func verbosePrintsEffectiveEndpoints() async throws {
        let sandbox = try DaemonSandbox()
        try "v3ry-s3cret-proxy".write(toFile: sandbox.path + "/proxy.pw", atomically: true, encoding: .utf8)
        try sandbox.writeConfig("""

            [microsoft]
            cloud = "usgov-dod"
            proxy = "http://10.0.0.8:3128"
            proxy_username = "tenantsync"
            proxy_password_file = "\(sandbox.path)/proxy.pw"
            no_proxy = ["login.microsoftonline.us"]
            """)
        let result = try await DaemonProcess.runToExit(arguments: ["--check-config", "--verbose", "--config", sandbox.configPath])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        for line in [
            "microsoft.cloud = usgov-dod",
            "microsoft.authority = https://login.microsoftonline.us [direct (no_proxy)]",
            "microsoft.graph = https://dod-graph.microsoft.us [via proxy]",
            "microsoft.outlook = https://webmail.apps.mil [via proxy]",
            "microsoft.management = https://manage.protection.apps.mil [via proxy]",
            "microsoft.scopes = https://dod-graph.microsoft.us/.default https://webmail.apps.mil/.default https://manage.protection.apps.mil/.default",
            "microsoft.proxy = http://tenantsync@10.0.0.8:3128 (password set)",
        ] {
            #expect(result.stdout.contains(line + "\n"), "missing \(line) in:\n\(result.stdout)")
        }
        #expect(!(result.stdout + result.stderr).contains("v3ry-s3cret-proxy"), "the proxy password was printed")

        let quiet = try await DaemonProcess.runToExit(arguments: ["--check-config", "--config", sandbox.configPath])
        #expect(quiet.status == 0 && !quiet.stdout.contains("microsoft.graph"), "without --verbose only the verdict: \(quiet.stdout)")
    }
}
