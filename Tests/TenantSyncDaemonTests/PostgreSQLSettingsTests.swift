import Testing
import TenantSyncConfig
@testable import TenantSyncDaemon

@Suite("PostgreSQL settings from the configuration")
struct PostgreSQLSettingsTests {
    static let text = """
        [daemon]
        node_name = "node-7"

        [database]
        url = "postgresql://tenantsync@db.example.net:6432/state"
        tls = "verify-full"

        [cluster]
        lease_duration = "45s"
        """

    @Test func theServerEndsATransactionLeftIdleForALeaseDurationAndTheNodeIsNamed() throws {
        let configuration = try ConfigurationLoader(environment: [:]).parse(text: Self.text, file: "test.toml")
        let settings = Daemon.postgreSQLSettings(try #require(configuration.database.url), configuration)
        #expect(settings.idleInTransactionTimeout == .seconds(45))
        #expect(settings.applicationName == "node-7")
        #expect(settings.host == "db.example.net" && settings.port == 6432 && settings.database == "state" && settings.user == "tenantsync")
    }

    @Test func theDefaultLeaseDurationOfThirtySecondsBoundsAnIdleTransactionToo() throws {
        let configuration = try ConfigurationLoader(environment: [:]).parse(
            text: "[database]\nurl = \"postgresql://tenantsync@127.0.0.1/state\"\n", file: "test.toml"
        )
        let settings = Daemon.postgreSQLSettings(try #require(configuration.database.url), configuration)
        #expect(settings.idleInTransactionTimeout == .seconds(30))
    }

    @Test func theStateCopyToPostgreSQLRunsItsOneLongTransactionWithoutTheBound() throws {
        let configuration = try ConfigurationLoader(environment: [:]).parse(text: Self.text, file: "test.toml")
        let url = try #require(configuration.database.url)
        let settings = Daemon.stateCopySettings(url, configuration)
        #expect(settings.idleInTransactionTimeout == nil)
        #expect(settings.applicationName == "node-7" && settings.host == "db.example.net", "otherwise the daemon's settings")
    }
}
