import Foundation
import TOMLKit
import TenantSyncCore

/// Reads and validates `tenantsyncd.toml`.
///
/// Every key is optional; unknown keys, wrong types and bad values are refused
/// with a ``ConfigurationError`` that names the file and line. Secret files are
/// read here so that a missing or unreadable one is a configuration error, not a
/// failure hours later.
public struct ConfigurationLoader: Sendable {
    public var environment: [String: String]
    /// Read as `[database] url` whatever the file says: the target of `tenantsyncd --migrate-to-postgresql URL`, whose
    /// password, TLS mode and CA come from `[database]` and are checked as they are for a configured url.
    public var databaseURLOverride: PostgreSQLURL?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, databaseURLOverride: PostgreSQLURL? = nil) {
        self.environment = environment
        self.databaseURLOverride = databaseURLOverride
    }

    /// Loads `path`; when `path` is the default and absent, the built-in defaults apply.
    public func load(path: String?) throws(ConfigurationError) -> DaemonConfiguration {
        let file = path ?? ConfigurationDefaults.path
        guard FileManager.default.fileExists(atPath: file) else {
            if path == nil {
                var configuration = DaemonConfiguration.defaults(environment: environment)
                configuration.database.url = databaseURLOverride ?? configuration.database.url
                try checkNodeName(configuration.daemon.nodeName, explicit: false, file: file, reader: nil)
                try readSecrets(into: &configuration, reader: nil)
                return configuration
            }
            throw ConfigurationError(file: file, line: nil, message: "no such file")
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigurationError(file: file, line: nil, message: "cannot read the file (check its owner and mode)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(file: file, line: nil, message: "the file is not valid UTF-8")
        }
        return try parse(text: text, file: file)
    }

    /// Parses configuration text; `file` is used in error messages.
    public func parse(text: String, file: String) throws(ConfigurationError) -> DaemonConfiguration {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(file: file, line: error.source.begin.line, message: "TOML syntax error: \(error.description)")
        } catch {
            throw ConfigurationError(file: file, line: nil, message: "TOML syntax error: \(error)")
        }
        let reader = TableReader(file: file, locator: TOMLKeyLocator(text: text))
        var configuration = DaemonConfiguration.defaults(environment: environment)
        configuration.sourceFile = file
        try reader.allowOnly(
            ["daemon", "microsoft", "smtp", "sync", "tokens", "teams", "provisioning", "hooks", "metrics", "database", "cluster"], in: table, path: ""
        )

        if let daemon = try reader.table(table, "daemon", path: "daemon") {
            try reader.allowOnly(
                ["state_directory", "control_socket", "control_group", "key_file", "log_target", "shutdown_timeout",
                 "testing_fault_switches", "node_name"],
                in: daemon, path: "daemon"
            )
            if let value = try reader.path(daemon, "state_directory", path: "daemon.state_directory") {
                configuration.daemon.stateDirectory = value
                configuration.daemon.keyFile = value + "/tenantsync.key"
            }
            if let value = try reader.path(daemon, "control_socket", path: "daemon.control_socket") { configuration.daemon.controlSocket = value }
            if let value = try reader.string(daemon, "control_group", path: "daemon.control_group") {
                guard !value.isEmpty, value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                    throw reader.error("daemon.control_group", "control_group must be a group name")
                }
                configuration.daemon.controlGroup = value
            }
            if let value = try reader.path(daemon, "key_file", path: "daemon.key_file") { configuration.daemon.keyFile = value }
            if let value = try reader.choice(daemon, "log_target", path: "daemon.log_target", DaemonConfiguration.LogTarget.self) {
                configuration.daemon.logTarget = value
            }
            if let value = try reader.duration(daemon, "shutdown_timeout", path: "daemon.shutdown_timeout", minimum: .seconds(1)) {
                configuration.daemon.shutdownTimeout = value
            }
            if let value = try reader.bool(daemon, "testing_fault_switches", path: "daemon.testing_fault_switches") {
                configuration.daemon.testingFaultSwitches = value
            }
            if let value = try reader.string(daemon, "node_name", path: "daemon.node_name") { configuration.daemon.nodeName = value }
        }
        try checkNodeName(configuration.daemon.nodeName, explicit: table["daemon"]?.table?["node_name"] != nil, file: file, reader: reader)
        if let database = try reader.table(table, "database", path: "database") {
            try readDatabase(database, reader: reader, into: &configuration.database)
        } else if let databaseURLOverride {
            configuration.database.url = databaseURLOverride
        }
        if let cluster = try reader.table(table, "cluster", path: "cluster") {
            try readCluster(cluster, reader: reader, into: &configuration.cluster)
        }

        if let microsoft = try reader.table(table, "microsoft", path: "microsoft") {
            try reader.allowOnly(
                Set(["authority", "graph", "outlook", "management", "client_id", "client_secret_file", "request_timeout",
                     "client_secret_expires", "client_certificate_file", "client_key_file"]
                    + Self.cloudAndProxyKeys), in: microsoft, path: "microsoft"
            )
            // The cloud first: it sets the four endpoints, which explicit keys below then override.
            try readCloud(microsoft, reader: reader, into: &configuration.microsoft)
            if let value = try reader.endpoint(microsoft, "authority", path: "microsoft.authority") { configuration.microsoft.authority = value }
            if let value = try reader.endpoint(microsoft, "graph", path: "microsoft.graph") { configuration.microsoft.graph = value }
            if let value = try reader.endpoint(microsoft, "outlook", path: "microsoft.outlook") { configuration.microsoft.outlook = value }
            if let value = try reader.endpoint(microsoft, "management", path: "microsoft.management") { configuration.microsoft.management = value }
            if let value = try reader.string(microsoft, "client_id", path: "microsoft.client_id") {
                guard UUID(uuidString: value) != nil else {
                    throw reader.error("microsoft.client_id", "client_id must be an application (client) id, a GUID")
                }
                configuration.microsoft.clientID = value.lowercased()
            }
            if let value = try reader.path(microsoft, "client_secret_file", path: "microsoft.client_secret_file") {
                configuration.microsoft.clientSecretFile = value
            }
            if let value = try reader.duration(microsoft, "request_timeout", path: "microsoft.request_timeout", minimum: .seconds(1)) {
                configuration.microsoft.requestTimeout = value
            }
            try readCertificateKeys(microsoft, into: &configuration, reader: reader)
            try requireOneCloud(microsoft, reader: reader, configuration.microsoft)
            try readProxy(microsoft, reader: reader, into: &configuration.microsoft)
        }

        if let smtp = try reader.table(table, "smtp", path: "smtp") {
            try reader.allowOnly(
                ["host", "port", "security", "username", "password_file", "from", "to", "ca_file", "timeout"], in: smtp, path: "smtp"
            )
            if let value = try reader.string(smtp, "host", path: "smtp.host") { configuration.smtp.host = value }
            if let value = try reader.int(smtp, "port", path: "smtp.port", range: 1...65_535) { configuration.smtp.port = value }
            if let value = try reader.choice(smtp, "security", path: "smtp.security", DaemonConfiguration.SMTPSecurity.self) {
                configuration.smtp.security = value
                if smtp["port"] == nil, value == .tls { configuration.smtp.port = 465 }
                if smtp["port"] == nil, value == .none { configuration.smtp.port = 25 }
            }
            if let value = try reader.string(smtp, "username", path: "smtp.username") { configuration.smtp.username = value }
            if let value = try reader.path(smtp, "password_file", path: "smtp.password_file") { configuration.smtp.passwordFile = value }
            if let value = try reader.address(smtp, "from", path: "smtp.from") { configuration.smtp.from = value }
            if let value = try reader.addresses(smtp, "to", path: "smtp.to") { configuration.smtp.to = value }
            if let value = try reader.path(smtp, "ca_file", path: "smtp.ca_file") { configuration.smtp.caFile = value }
            if let value = try reader.duration(smtp, "timeout", path: "smtp.timeout", minimum: .seconds(1)) { configuration.smtp.timeout = value }
            if !configuration.smtp.host.isEmpty, configuration.smtp.to.isEmpty {
                throw reader.error("smtp.host", "smtp.host is set but smtp.to lists no administrator to mail")
            }
        }

        if let sync = try reader.table(table, "sync", path: "sync") {
            try reader.allowOnly(
                ["daily_window_start", "daily_window_length", "mass_deletion_threshold", "max_concurrent_tenants", "graph_budget_share"], in: sync, path: "sync"
            )
            if let value = try reader.string(sync, "daily_window_start", path: "sync.daily_window_start") {
                guard let minutes = Self.minutesAfterMidnight(value) else {
                    throw reader.error("sync.daily_window_start", "daily_window_start must be a UTC time of day as HH:MM, e.g. \"02:00\"")
                }
                configuration.sync.dailyWindowStartMinutes = minutes
            }
            if let value = try reader.duration(sync, "daily_window_length", path: "sync.daily_window_length", minimum: .seconds(60)) {
                guard value <= .seconds(86_400) else {
                    throw reader.error("sync.daily_window_length", "daily_window_length must be at most 24h")
                }
                configuration.sync.dailyWindowLength = value
            }
            if let value = try reader.number(sync, "mass_deletion_threshold", path: "sync.mass_deletion_threshold") {
                guard value > 0, value <= 1 else {
                    throw reader.error("sync.mass_deletion_threshold", "mass_deletion_threshold must be a share between 0 and 1, e.g. 0.2 for 20%")
                }
                configuration.sync.massDeletionThreshold = value
            }
            if let value = try reader.int(sync, "max_concurrent_tenants", path: "sync.max_concurrent_tenants", range: 1...256) {
                configuration.sync.maxConcurrentTenants = value
            }
            if let value = try reader.number(sync, "graph_budget_share", path: "sync.graph_budget_share") {
                guard value > 0, value <= 1 else {
                    throw reader.error("sync.graph_budget_share", "graph_budget_share must be a share above 0 and at most 1, e.g. 0.25 for 25% of the Graph budget")
                }
                configuration.sync.graphBudgetShare = value
            }
        }

        if let tokens = try reader.table(table, "tokens", path: "tokens") {
            try reader.allowOnly(["refresh_margin", "max_in_flight"], in: tokens, path: "tokens")
            if let value = try reader.duration(tokens, "refresh_margin", path: "tokens.refresh_margin", minimum: .seconds(30)) {
                guard value <= .seconds(3_600) else {
                    throw reader.error("tokens.refresh_margin", "refresh_margin must be at most 1h (access tokens live 60-90 minutes)")
                }
                configuration.tokens.refreshMargin = value
            }
            if let value = try reader.int(tokens, "max_in_flight", path: "tokens.max_in_flight", range: 1...1_024) {
                configuration.tokens.maxInFlight = value
            }
        }

        if let teams = try reader.table(table, "teams", path: "teams") {
            try reader.allowOnly(["evaluation_monthly_calls"], in: teams, path: "teams")
            if let value = try reader.int(teams, "evaluation_monthly_calls", path: "teams.evaluation_monthly_calls", range: 1...100_000_000) {
                configuration.teams.evaluationMonthlyCalls = value
            }
        }

        if let provisioning = try reader.table(table, "provisioning", path: "provisioning") {
            try reader.allowOnly(["consent_timeout"], in: provisioning, path: "provisioning")
            if let value = try reader.duration(provisioning, "consent_timeout", path: "provisioning.consent_timeout", minimum: .seconds(30)) {
                guard value <= .seconds(3_600) else {
                    throw reader.error("provisioning.consent_timeout", "consent_timeout must be at most 1h (Microsoft's authorization codes and device codes expire sooner)")
                }
                configuration.provisioning.consentTimeout = value
            }
        }

        if let metrics = try reader.table(table, "metrics", path: "metrics") {
            try reader.allowOnly(["listen"], in: metrics, path: "metrics")
            if let value = try reader.string(metrics, "listen", path: "metrics.listen") {
                guard let address = MetricsListenAddress(parsing: value) else {
                    throw reader.error(
                        "metrics.listen", "listen must be HOST:PORT, e.g. \"127.0.0.1:9464\" or \"[::1]:9464\" (port 0-65535)"
                    )
                }
                configuration.metrics.listen = address
            }
        }

        if let hooks = table["hooks"] {
            guard let array = hooks.array else { throw reader.error("hooks", "hooks must be an array of tables: [[hooks]]") }
            var names = Set<String>()
            for (index, element) in array.enumerated() {
                let path = "hooks.\(index)"
                guard let hook = element.table else { throw reader.error(path, "each [[hooks]] entry must be a table") }
                try reader.allowOnly(["name", "command", "events", "timeout"], in: hook, path: path)
                let name = try reader.string(hook, "name", path: "\(path).name") ?? "hook\(index + 1)"
                guard names.insert(name).inserted else { throw reader.error("\(path).name", "two hooks are named \"\(name)\"") }
                guard let command = try reader.strings(hook, "command", path: "\(path).command"), let executable = command.first else {
                    throw reader.error(path, "a hook needs command = [\"/absolute/path\", \"arg\", ...]")
                }
                guard executable.hasPrefix("/") else {
                    throw reader.error("\(path).command", "a hook command must start with an absolute path (it runs without a shell)")
                }
                let events = try reader.strings(hook, "events", path: "\(path).events") ?? []
                let timeout = try reader.duration(hook, "timeout", path: "\(path).timeout", minimum: .seconds(1)) ?? .seconds(10)
                configuration.hooks.append(.init(name: name, command: command, events: events, timeout: timeout))
            }
        }

        try readSecrets(into: &configuration, reader: reader)
        return configuration
    }

    /// Reads the secret files: explicit paths first, then systemd credentials.
    private func readSecrets(into configuration: inout DaemonConfiguration, reader: TableReader?) throws(ConfigurationError) {
        let file = configuration.sourceFile
        func read(_ explicit: String?, credential: String, key: String) throws(ConfigurationError) -> Secret? {
            var path = explicit
            if let candidate = path, !candidate.hasPrefix("/"), let directory = environment["CREDENTIALS_DIRECTORY"] {
                path = directory + "/" + candidate
            }
            if path == nil, let directory = environment["CREDENTIALS_DIRECTORY"] {
                let candidate = directory + "/" + credential
                if FileManager.default.fileExists(atPath: candidate) { path = candidate }
            }
            guard let path else { return nil }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError(file: file, line: reader?.locator.line(of: key), message: "cannot read the secret file \(path)")
            }
            let value = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !value.isEmpty else {
                throw ConfigurationError(file: file, line: reader?.locator.line(of: key), message: "the secret file \(path) is empty")
            }
            return Secret(value)
        }
        if configuration.microsoft.clientCertificateFile == nil {
            configuration.microsoft.clientSecret = try read(
                configuration.microsoft.clientSecretFile, credential: ConfigurationDefaults.clientSecretCredential,
                key: "microsoft.client_secret_file"
            )
        } else {
            configuration.microsoft.clientCertificate = try readClientCertificate(configuration.microsoft, file: file, reader: reader)
        }
        // Only a proxy with a user name has a password (readProxy refuses a password file without one).
        if configuration.microsoft.proxy?.username != nil {
            configuration.microsoft.proxy?.password = try read(
                configuration.microsoft.proxyPasswordFile, credential: ConfigurationDefaults.proxyPasswordCredential,
                key: "microsoft.proxy_password_file"
            )
        }
        configuration.smtp.password = try read(
            configuration.smtp.passwordFile, credential: ConfigurationDefaults.smtpPasswordCredential, key: "smtp.password_file"
        )
        configuration.database.password = try readDatabasePassword(configuration.database, file: file, reader: reader)
    }

    static func minutesAfterMidnight(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              let hours = Int(parts[0]), let minutes = Int(parts[1]), (0..<24).contains(hours), (0..<60).contains(minutes)
        else { return nil }
        return hours * 60 + minutes
    }
}
