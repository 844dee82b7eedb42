import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import TenantSyncConfig
import TenantSyncCore
import Systemd
import TenantSyncDaemon

@main
struct TenantSyncD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenantsyncd",
        abstract: "Keep the Microsoft 365 service accounts of tenantsync alive.",
        discussion: """
            tenantsyncd stores the Microsoft 365 service accounts an administrator provisioned, refreshes their \
            OAuth tokens ahead of expiry, syncs each tenant's directory once a day, and raises alerts (systemd status, \
            the journal, e-mail, hook commands) when an account stops working. It is driven with tenantsyncctl over \
            its control socket and normally runs under systemd (Type=notify, socket activation, watchdog).
            """,
        version: TenantSyncVersion.current
    )

    @Option(name: .long, help: ArgumentHelp("The configuration file.", valueName: "FILE"))
    var config: String?

    @Flag(name: .long, help: "Validate the configuration and exit: 0 when valid, 78 with FILE:LINE: message otherwise.")
    var checkConfig = false

    @Flag(name: .long, help: "With --check-config: also print the effective Microsoft cloud, endpoints, scopes and proxy.")
    var verbose = false

    @Option(
        name: .customLong("migrate-to-postgresql"),
        help: ArgumentHelp(
            "Copy the SQLite state into the empty PostgreSQL database at URL and exit (password, tls and ca_file from [database]; stop the daemon first).",
            valueName: "URL"
        )
    )
    var migrateToPostgreSQL: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        MallocArenas.apply(environment: environment)
        // The copy's target is read as [database] url, so its password, TLS mode and CA are checked the same way.
        var target: PostgreSQLURL?
        if let migrateToPostgreSQL {
            do {
                target = try PostgreSQLURL(parsing: migrateToPostgreSQL)
            } catch {
                Self.fail("--migrate-to-postgresql: \(error.message)", code: ExitCodes.usage)
            }
        }
        let configuration: DaemonConfiguration
        do {
            configuration = try ConfigurationLoader(environment: environment, databaseURLOverride: target).load(path: config)
        } catch {
            Self.fail("\(error)", code: ExitCodes.configuration)
        }
        if checkConfig {
            print("\(configuration.sourceFile): configuration is valid")
            if verbose { configuration.microsoft.effectiveEndpointLines.forEach { print($0) } }
            return
        }
        let factory = LogHandlerFactory(
            mode: LogHandlerFactory.Mode(rawValue: configuration.daemon.logTarget.rawValue) ?? .automatic,
            // A copy prints its own report; its log says only what went wrong, unless asked for more.
            logLevel: environment["TENANTSYNC_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? (target == nil ? .info : .warning)
        )
        LoggingSystem.bootstrap { label in factory.makeHandler(label: label) }
        let logger = Logger(label: "tenantsyncd")
        let daemon = Daemon(configurationPath: config, configuration: configuration, environment: environment, logger: logger)
        if target != nil {
            do {
                for line in try await daemon.migrateToPostgreSQL() { print(line) }
            } catch let error as TenantSyncError {
                Self.fail("cannot migrate: \(error.message)", code: ExitCodes.forMigration(error))
            } catch {
                Self.fail("the migration stopped on an error: \(error)", code: ExitCodes.software)
            }
            return
        }
        do {
            try await daemon.run()
        } catch let error as TenantSyncError {
            Self.fail("cannot start: \(error.message)", code: ExitCodes.forStartup(error))
        } catch {
            Self.fail("stopped on an error: \(error)", code: ExitCodes.software)
        }
    }

    static func fail(_ line: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data("tenantsyncd: \(line)\n".utf8))
        Glibc.exit(code)
    }
}

/// Exit statuses from sysexits(3).
enum ExitCodes {
    static let usage: Int32 = 64
    static let dataError: Int32 = 65
    static let noInput: Int32 = 66
    static let unavailable: Int32 = 69
    static let software: Int32 = 70
    static let cannotCreate: Int32 = 73
    static let ioError: Int32 = 74
    static let temporaryFailure: Int32 = 75
    static let noPermission: Int32 = 77
    static let configuration: Int32 = 78

    static func forStartup(_ error: TenantSyncError) -> Int32 {
        switch error.code {
        case .schemaTooNew: dataError
        case .secretKeyUnavailable, .secretCorrupted: noPermission
        case .storeUnavailable where error.context["reason"] == "locked": temporaryFailure
        // A database server that does not answer (yet): systemd restarts the unit, which may find it up.
        case .storeUnavailable where error.context["reason"] == "unreachable": unavailable
        // A login the database refused (wrong password, pg_hba.conf): a restart would be refused the same way.
        case .storeUnavailable where error.context["reason"] == "refused": noPermission
        case .storeUnavailable: ioError
        case .invalidConfiguration: configuration
        default: software
        }
    }

    /// `--migrate-to-postgresql`: a target holding data is EX_CANTCREAT; the rest as at a start.
    static func forMigration(_ error: TenantSyncError) -> Int32 {
        switch error.context["reason"] {
        case "target-not-empty": cannotCreate
        case "no-state": noInput
        case "schema-mismatch": dataError
        case "verification": software
        default: forStartup(error)
        }
    }
}
