import Credentials
import Foundation
import TenantSyncCore

/// Everything `tenantsyncd.toml` can say, with every default filled in.
///
/// Secrets are never part of the file: the file names where they are
/// (`client_secret_file`, `password_file`), and ``ConfigurationLoader`` reads
/// them into ``Secret`` values.
public struct DaemonConfiguration: Sendable, Equatable {
    public struct DaemonSection: Sendable, Equatable {
        public var stateDirectory: String
        public var controlSocket: String
        public var controlGroup: String
        /// Where the secret-sealing key lives unless systemd passes the `tenantsync.key` credential.
        public var keyFile: String
        public var logTarget: LogTarget
        public var shutdownTimeout: Duration
        /// Test-only switches (fault injection); documented as such, off by default.
        public var testingFaultSwitches: Bool
        /// How this daemon is named among others (metrics, PostgreSQL's `application_name`); default: the host name.
        public var nodeName: String = DaemonConfiguration.systemHostName()
    }

    public enum LogTarget: String, Sendable, Equatable, CaseIterable {
        /// The journal when stderr is connected to it (`JOURNAL_STREAM`), else stderr.
        case auto
        case journal
        case stderr
    }

    public struct MicrosoftSection: Sendable, Equatable {
        public var authority: String
        public var graph: String
        public var outlook: String
        /// The Office 365 Management APIs (the Inline Mode activity-data permission).
        public var management: String
        /// The product's multi-tenant application (client) id.
        public var clientID: String
        public var clientSecretFile: String?
        public var clientSecret: Secret?
        public var requestTimeout: Duration
        /// `client_secret_expires`: when the secret stops working (start of that day, UTC), for the expiry alerts.
        public var clientSecretExpires: Date? = nil
        /// `client_certificate_file` (PEM): the app authenticates with a certificate instead of a secret.
        public var clientCertificateFile: String? = nil
        /// `client_key_file` (PEM private key); default: the systemd credential `microsoft-client-key`.
        public var clientKeyFile: String? = nil
        /// The certificate and its key, read and matched at load; set exactly when `clientCertificateFile` is.
        public var clientCertificate: ClientCertificate? = nil
        /// The cloud whose hosts the four endpoints above default to; explicit endpoint keys override them.
        public var cloud: NationalCloud = .global
        /// The HTTP CONNECT proxy every Microsoft request goes through; `nil` means direct connections.
        /// Its password is read from `proxyPasswordFile` (or the `microsoft-proxy-password` credential).
        public var proxy: OutboundProxy? = nil
        public var proxyPasswordFile: String? = nil
    }

    public enum SMTPSecurity: String, Sendable, Equatable, CaseIterable {
        case starttls, tls, none
    }

    public struct SMTPSection: Sendable, Equatable {
        /// Empty: e-mail alerts are off.
        public var host: String
        public var port: Int
        public var security: SMTPSecurity
        public var username: String?
        public var passwordFile: String?
        public var password: Secret?
        public var from: String
        public var to: [String]
        public var caFile: String?
        public var timeout: Duration

        public var isEnabled: Bool { !host.isEmpty && !to.isEmpty }
    }

    public struct SyncSection: Sendable, Equatable {
        /// Start of the daily window, minutes after midnight UTC.
        public var dailyWindowStartMinutes: Int
        public var dailyWindowLength: Duration
        /// Share of a tenant's targets a run may remove before it is held (0...1).
        public var massDeletionThreshold: Double
        public var maxConcurrentTenants: Int
        /// Share (0 < x ≤ 1) of each tenant's and the app's Graph resource-unit budget the syncs may use; the rest
        /// stays for the protection service's scanning under the same app id.
        public var graphBudgetShare: Double = 0.25
    }

    public struct TokensSection: Sendable, Equatable {
        public var refreshMargin: Duration
        public var maxInFlight: Int
    }

    public struct ProvisioningSection: Sendable, Equatable {
        /// How long an interactive consent (the loopback listener of the authorization-code flow) waits for the administrator.
        public var consentTimeout: Duration
    }

    public struct TeamsSection: Sendable, Equatable {
        /// Graph calls per calendar month an evaluation-mode Teams Chat account may make before Microsoft answers 402.
        public var evaluationMonthlyCalls: Int
    }

    public struct MetricsSection: Sendable, Equatable {
        /// Where the Prometheus endpoint (`/metrics`) listens; `nil`: no endpoint.
        public var listen: MetricsListenAddress?
    }

    /// A command run with each matching alert as JSON on stdin.
    public struct Hook: Sendable, Equatable {
        public var name: String
        public var command: [String]
        /// Alert kinds it runs for; empty means all.
        public var events: [String]
        public var timeout: Duration

        public init(name: String, command: [String], events: [String], timeout: Duration) {
            self.name = name
            self.command = command
            self.events = events
            self.timeout = timeout
        }
    }

    public var daemon: DaemonSection
    public var microsoft: MicrosoftSection
    public var smtp: SMTPSection
    public var sync: SyncSection
    public var tokens: TokensSection
    public var teams: TeamsSection
    public var provisioning: ProvisioningSection
    public var hooks: [Hook]
    public var metrics = MetricsSection()
    public var database = DatabaseSection()
    public var cluster = ClusterSection()
    /// The file it was read from (or the default path when none existed).
    public var sourceFile: String

    /// The built-in defaults, resolved against the systemd environment.
    public static func defaults(environment: [String: String]) -> DaemonConfiguration {
        let state = environment["STATE_DIRECTORY"].flatMap { $0.split(separator: ":").first.map(String.init) } ?? "/var/lib/tenantsync"
        let runtime = environment["RUNTIME_DIRECTORY"].flatMap { $0.split(separator: ":").first.map(String.init) } ?? "/run/tenantsync"
        return DaemonConfiguration(
            daemon: DaemonSection(
                stateDirectory: state, controlSocket: runtime + "/control", controlGroup: "tenantsync",
                keyFile: state + "/tenantsync.key", logTarget: .auto, shutdownTimeout: .seconds(30),
                testingFaultSwitches: false
            ),
            microsoft: MicrosoftSection(
                authority: "https://login.microsoftonline.com", graph: "https://graph.microsoft.com",
                outlook: "https://outlook.office365.com", management: "https://manage.office.com", clientID: ConfigurationDefaults.clientID,
                clientSecretFile: nil, clientSecret: nil, requestTimeout: .seconds(30)
            ),
            smtp: SMTPSection(
                host: "", port: 587, security: .starttls, username: nil, passwordFile: nil, password: nil,
                from: "tenantsync@localhost", to: [], caFile: nil, timeout: .seconds(30)
            ),
            sync: SyncSection(dailyWindowStartMinutes: 120, dailyWindowLength: .seconds(4 * 3600), massDeletionThreshold: 0.2, maxConcurrentTenants: 4),
            tokens: TokensSection(refreshMargin: .seconds(600), maxInFlight: 32),
            teams: TeamsSection(evaluationMonthlyCalls: 500),
            provisioning: ProvisioningSection(consentTimeout: .seconds(600)),
            hooks: [],
            sourceFile: ConfigurationDefaults.path
        )
    }

    /// The keys whose change needs a restart, comparing `self` (running) with `next` (re-read).
    public func keysNeedingRestart(comparedTo next: DaemonConfiguration) -> [String] {
        var keys: [String] = []
        if daemon.stateDirectory != next.daemon.stateDirectory { keys.append("daemon.state_directory") }
        if daemon.controlSocket != next.daemon.controlSocket { keys.append("daemon.control_socket") }
        if daemon.controlGroup != next.daemon.controlGroup { keys.append("daemon.control_group") }
        if daemon.keyFile != next.daemon.keyFile { keys.append("daemon.key_file") }
        if daemon.logTarget != next.daemon.logTarget { keys.append("daemon.log_target") }
        if daemon.shutdownTimeout != next.daemon.shutdownTimeout { keys.append("daemon.shutdown_timeout") }
        if daemon.testingFaultSwitches != next.daemon.testingFaultSwitches { keys.append("daemon.testing_fault_switches") }
        if microsoft.authority != next.microsoft.authority { keys.append("microsoft.authority") }
        if microsoft.graph != next.microsoft.graph { keys.append("microsoft.graph") }
        if microsoft.outlook != next.microsoft.outlook { keys.append("microsoft.outlook") }
        if microsoft.management != next.microsoft.management { keys.append("microsoft.management") }
        if microsoft.cloud != next.microsoft.cloud { keys.append("microsoft.cloud") }
        // The HTTP clients to Microsoft are built once with their proxy.
        if microsoft.proxy != next.microsoft.proxy { keys.append("microsoft.proxy") }
        // The HTTP clients to Microsoft are built once with it (and shared by every service).
        if microsoft.requestTimeout != next.microsoft.requestTimeout { keys.append("microsoft.request_timeout") }
        if provisioning != next.provisioning { keys.append("provisioning.consent_timeout") }
        if teams != next.teams { keys.append("teams.evaluation_monthly_calls") }
        // One Graph pacer is built at start with it; its buckets hold the traffic already spent.
        if sync.graphBudgetShare != next.sync.graphBudgetShare { keys.append("sync.graph_budget_share") }
        // The store is opened once, at start, and the node's name goes with its connections and metrics.
        if daemon.nodeName != next.daemon.nodeName { keys.append("daemon.node_name") }
        if database.url != next.database.url { keys.append("database.url") }
        // The password's content, re-read at each reload, like the other secrets.
        if database.passwordFile != next.database.passwordFile || database.password != next.database.password { keys.append("database.password_file") }
        if database.tls != next.database.tls { keys.append("database.tls") }
        if database.caFile != next.database.caFile { keys.append("database.ca_file") }
        if cluster.leaseDuration != next.cluster.leaseDuration { keys.append("cluster.lease_duration") }
        return keys
    }
}

/// Defaults documented in README.md.
public enum ConfigurationDefaults {
    public static let path = "/etc/tenantsync/tenantsyncd.toml"
    /// The product's multi-tenant app id; the emulator registers the same id by default.
    public static let clientID = "5f1e2c3a-7b4d-4e8f-9a0b-1c2d3e4f5a6b"
    /// The systemd credential names read when no file is configured.
    public static let clientSecretCredential = "microsoft-client-secret"
    public static let clientKeyCredential = "microsoft-client-key"
    public static let smtpPasswordCredential = "smtp-password"
    public static let proxyPasswordCredential = "microsoft-proxy-password"
    public static let databasePasswordCredential = "database-password"
}
