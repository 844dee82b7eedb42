import Foundation
import Testing
import TenantSyncConfig
import TenantSyncCore

@Suite("Configuration file")
struct ConfigurationLoaderTests {
    let loader = ConfigurationLoader(environment: [:])

    func parse(_ text: String) throws(ConfigurationError) -> DaemonConfiguration {
        try loader.parse(text: text, file: "/etc/tenantsync/tenantsyncd.toml")
    }

    func failure(_ text: String) -> ConfigurationError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func emptyFileGivesTheDocumentedDefaults() throws {
        let configuration = try parse("")
        #expect(configuration.daemon.stateDirectory == "/var/lib/tenantsync")
        #expect(configuration.daemon.controlSocket == "/run/tenantsync/control")
        #expect(configuration.daemon.controlGroup == "tenantsync")
        #expect(configuration.microsoft.authority == "https://login.microsoftonline.com")
        #expect(configuration.microsoft.graph == "https://graph.microsoft.com")
        #expect(configuration.microsoft.outlook == "https://outlook.office365.com")
        #expect(configuration.microsoft.management == "https://manage.office.com")
        #expect(configuration.provisioning.consentTimeout == .seconds(600))
        #expect(configuration.smtp.port == 587 && configuration.smtp.security == .starttls && !configuration.smtp.isEnabled)
        #expect(configuration.sync.dailyWindowStartMinutes == 120 && configuration.sync.dailyWindowLength == .seconds(14_400))
        #expect(configuration.tokens.refreshMargin == .seconds(600))
    }

    @Test func systemdDirectoriesBecomeTheDefaults() throws {
        let configuration = try ConfigurationLoader(environment: ["STATE_DIRECTORY": "/var/lib/ts", "RUNTIME_DIRECTORY": "/run/ts"])
            .parse(text: "", file: "x.toml")
        #expect(configuration.daemon.stateDirectory == "/var/lib/ts")
        #expect(configuration.daemon.keyFile == "/var/lib/ts/tenantsync.key")
        #expect(configuration.daemon.controlSocket == "/run/ts/control")
    }

    @Test func everyPinnedKeyIsAccepted() throws {
        let configuration = try parse("""
            [daemon]
            state_directory = "/srv/ts"
            control_socket = "/srv/ts/control"
            control_group = "secops"

            [microsoft]
            authority = "http://127.0.0.1:8080"
            graph = "http://[::1]:8080"
            outlook = "https://outlook.office365.us"
            management = "http://127.0.0.1:8080/manage"
            client_id = "5F1E2C3A-7B4D-4E8F-9A0B-1C2D3E4F5A6B"

            [smtp]
            host = "mail.example.com"
            port = 2525
            security = "tls"
            username = "alerts"
            from = "tenantsync@example.com"
            to = ["soc@example.com", "oncall@example.com"]

            [sync]
            daily_window_start = "01:30"
            daily_window_length = "2h"

            [tokens]
            refresh_margin = "15m"

            [teams]
            evaluation_monthly_calls = 2000

            [provisioning]
            consent_timeout = "3m"

            [[hooks]]
            name = "pager"
            command = ["/usr/local/bin/page", "--team", "secops"]
            events = ["token-invalid"]
            timeout = "5s"
            """)
        #expect(configuration.daemon.stateDirectory == "/srv/ts")
        #expect(configuration.daemon.keyFile == "/srv/ts/tenantsync.key")
        #expect(configuration.daemon.controlGroup == "secops")
        #expect(configuration.microsoft.authority == "http://127.0.0.1:8080")
        #expect(configuration.microsoft.clientID == "5f1e2c3a-7b4d-4e8f-9a0b-1c2d3e4f5a6b")
        #expect(configuration.smtp.port == 2525 && configuration.smtp.security == .tls && configuration.smtp.isEnabled)
        #expect(configuration.smtp.to == ["soc@example.com", "oncall@example.com"])
        #expect(configuration.sync.dailyWindowStartMinutes == 90 && configuration.sync.dailyWindowLength == .seconds(7_200))
        #expect(configuration.tokens.refreshMargin == .seconds(900))
        #expect(configuration.teams.evaluationMonthlyCalls == 2000)
        #expect(configuration.microsoft.management == "http://127.0.0.1:8080/manage")
        #expect(configuration.provisioning.consentTimeout == .seconds(180))
        #expect(configuration.hooks == [.init(name: "pager", command: ["/usr/local/bin/page", "--team", "secops"], events: ["token-invalid"], timeout: .seconds(5))])
    }

    @Test func unknownKeyIsRefusedWithFileAndLine() {
        let error = failure("""
            # comment
            [daemon]
            state_directory = "/srv/ts"

            [smtp]
            host = "mail.example.com"
            to = ["a@example.com"]
            pasword_file = "/etc/x"
            """)
        #expect(error?.line == 8, "got \(String(describing: error))")
        #expect(error?.description.hasPrefix("/etc/tenantsync/tenantsyncd.toml:8: unknown key \"pasword_file\" in [smtp]") == true,
                "got \(String(describing: error))")
    }

    @Test func unknownTableIsRefusedWithItsLine() {
        let error = failure("[daemon]\n\n[smpt]\nhost = \"x\"\n")
        #expect(error?.line == 3)
        #expect(error?.message.contains("smpt") == true)
    }

    @Test func wrongTypeIsRefusedWithFileAndLine() {
        let error = failure("[smtp]\nhost = \"mail\"\nto = [\"a@example.com\"]\nport = \"587\"\n")
        #expect(error?.description == "/etc/tenantsync/tenantsyncd.toml:4: smtp.port must be an integer, not a string")
    }

    @Test("type errors read as English: not an array, not an int")
    func wrongTypeTakesTheRightArticle() {
        let array = failure("[smtp]\nhost = \"mail\"\nto = [\"a@example.com\"]\nport = [587]\n")
        #expect(array?.message == "smtp.port must be an integer, not an array", "\(String(describing: array))")
        let int = failure("[smtp]\nhost = 5\n")
        #expect(int?.message.hasSuffix(", not an int") == true, "\(String(describing: int))")
    }

    @Test func badDurationIsRefusedWithFileAndLine() {
        let error = failure("[tokens]\n\nrefresh_margin = \"10 minutes\"\n")
        #expect(error?.line == 3)
        #expect(error?.message.contains("is not a duration") == true)
    }

    @Test func graphBudgetShareDefaultsToAQuarterAndIsRead() throws {
        #expect(try parse("").sync.graphBudgetShare == 0.25)
        #expect(try parse("[sync]\ngraph_budget_share = 0.5\n").sync.graphBudgetShare == 0.5)
        #expect(try parse("[sync]\ngraph_budget_share = 1\n").sync.graphBudgetShare == 1)
    }

    @Test func syntaxErrorCarriesTheParsersLine() {
        let error = failure("[daemon]\nstate_directory = \"/srv\n")
        #expect(error?.line == 2, "got \(String(describing: error))")
    }

    @Test(arguments: [
        ("[microsoft]\ngraph = \"http://graph.example.com\"\n", 2, "https"),
        ("[microsoft]\nauthority = \"ftp://127.0.0.1\"\n", 2, "https"),
        ("[microsoft]\nclient_id = \"not-a-guid\"\n", 2, "GUID"),
        ("[microsoft]\n\nmanagement = \"http://manage.example.com\"\n", 3, "https"),
        ("[provisioning]\nconsent_timeout = \"10 minutes\"\n", 2, "is not a duration"),
        ("[provisioning]\nconsent_timeout = \"10s\"\n", 2, "at least"),
        ("[provisioning]\nconsent_timeout = \"2h\"\n", 2, "at most 1h"),
        ("[provisioning]\nconsent_timeout = 600\n", 2, "string"),
        ("[provisioning]\nconsent_time = \"10m\"\n", 2, "consent_time"),
        ("[smtp]\nsecurity = \"ssl\"\n", 2, "starttls, tls, none"),
        ("[smtp]\nhost = \"mail\"\n", 2, "smtp.to"),
        ("[smtp]\nhost = \"m\"\nto = [\"not an address\"]\n", 3, "e-mail"),
        ("[smtp]\nport = 70000\n", 2, "between 1 and 65535"),
        ("[sync]\ndaily_window_start = \"25:00\"\n", 2, "HH:MM"),
        ("[sync]\nmass_deletion_threshold = 20\n", 2, "between 0 and 1"),
        ("[sync]\ngraph_budget_share = 0\n", 2, "above 0 and at most 1"),
        ("[sync]\ngraph_budget_share = 1.5\n", 2, "above 0 and at most 1"),
        ("[sync]\ngraph_budget_share = \"25%\"\n", 2, "graph_budget_share"),
        ("[tokens]\nrefresh_margin = \"5s\"\n", 2, "at least"),
        ("[teams]\nevaluation_monthly_calls = 0\n", 2, "evaluation_monthly_calls"),
        ("[teams]\nevaluation_monthly_call = 10\n", 2, "evaluation_monthly_call"),
        ("[[hooks]]\ncommand = [\"page\"]\n", 2, "absolute path"),
        ("[[hooks]]\nname = \"x\"\n", 1, "command"),
        ("daemon = 5\n", 1, "table"),
    ])
    func badValuesAreRefusedWithTheirLine(text: String, line: Int, fragment: String) {
        let error = failure(text)
        #expect(error?.line == line, "\(text.debugDescription): \(String(describing: error))")
        #expect(error?.message.contains(fragment) == true, "\(text.debugDescription): \(String(describing: error))")
    }

    @Test func secretsComeFromFilesOrSystemdCredentialsNeverFromTheTOML() throws {
        let directory = NSTemporaryDirectory() + "tenantsync-config-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("client-secret-value\n".utf8).write(to: URL(fileURLWithPath: directory + "/microsoft-client-secret"))
        try Data("smtp-pass".utf8).write(to: URL(fileURLWithPath: directory + "/smtp.pw"))
        let credentials = ConfigurationLoader(environment: ["CREDENTIALS_DIRECTORY": directory])
        let configuration = try credentials.parse(text: "[smtp]\npassword_file = \"smtp.pw\"\n", file: "x.toml")
        #expect(configuration.microsoft.clientSecret == Secret("client-secret-value"))
        #expect(configuration.smtp.password == Secret("smtp-pass"))

        let missing = failure("[microsoft]\nclient_secret_file = \"/nonexistent/secret\"\n")
        #expect(missing?.line == 2)
        #expect(missing?.message.contains("/nonexistent/secret") == true)
        #expect(failure("[microsoft]\nclient_secret = \"inline\"\n")?.message.contains("unknown key") == true)
    }

    @Test func missingExplicitFileIsAnErrorButMissingDefaultFileIsNot() throws {
        #expect(throws: ConfigurationError.self) { try loader.load(path: "/nonexistent/tenantsyncd.toml") }
    }

    @Test func restartNeedingKeysAreNamed() throws {
        let running = try parse("[daemon]\ncontrol_socket = \"/run/a\"\n[tokens]\nrefresh_margin = \"10m\"\n")
        let next = try parse("[daemon]\ncontrol_socket = \"/run/b\"\n[tokens]\nrefresh_margin = \"20m\"\n")
        #expect(running.keysNeedingRestart(comparedTo: next) == ["daemon.control_socket"])
    }

    @Test func aChangedGraphBudgetShareNeedsARestart() throws {
        let running = try parse("[sync]\ngraph_budget_share = 0.25\n")
        let next = try parse("[sync]\ngraph_budget_share = 0.5\n")
        #expect(running.keysNeedingRestart(comparedTo: next) == ["sync.graph_budget_share"], "the pacer is built once; a reload must not claim the new share")
    }
}
