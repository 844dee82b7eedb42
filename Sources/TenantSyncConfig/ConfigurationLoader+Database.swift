import Credentials
import Foundation
import TOMLKit
import TenantSyncCore

/// `[database]`, `[cluster]` and `[daemon] node_name`.
extension ConfigurationLoader {
    static let databaseKeys: Set<String> = ["url", "password_file", "tls", "ca_file"]
    /// Bounds of `[cluster] lease_duration`: long enough to be renewed over a slow link, short enough that a dead
    /// node's work is taken over within minutes.
    static let leaseDurationBounds = Duration.seconds(5)...Duration.seconds(600)
    /// PostgreSQL keeps at most 63 bytes of `application_name` (the node name is sent as it).
    static let maximumNodeNameLength = 63

    func readDatabase(_ table: TOMLTable, reader: TableReader, into section: inout DaemonConfiguration.DatabaseSection) throws(ConfigurationError) {
        try reader.allowOnly(Self.databaseKeys, in: table, path: "database")
        if let text = try reader.string(table, "url", path: "database.url") {
            do {
                section.url = try PostgreSQLURL(parsing: text)
            } catch {
                throw reader.error("database.url", error.message)
            }
        }
        if let databaseURLOverride { section.url = databaseURLOverride }
        if let value = try reader.path(table, "password_file", path: "database.password_file") { section.passwordFile = value }
        if let value = try reader.choice(table, "tls", path: "database.tls", DaemonConfiguration.DatabaseTLS.self) { section.tls = value }
        if let value = try reader.path(table, "ca_file", path: "database.ca_file") { section.caFile = value }
        guard let url = section.url else {
            for key in ["password_file", "tls", "ca_file"] where table[key] != nil {
                throw reader.error("database.\(key)", "database.\(key) is set but database.url is not (without a url the state is the SQLite file in the state directory)")
            }
            return
        }
        if section.tls == .disable, !TableReader.isLoopback(url.host) {
            throw reader.error(
                "database.tls",
                "database.tls = \"disable\" is accepted only for a loopback host (localhost, 127.0.0.1, ::1), not \(url.host): tokens would cross the network in clear; use verify-full (or require)"
            )
        }
        if let caFile = section.caFile {
            if section.tls == .disable { throw reader.error("database.ca_file", "database.ca_file is set but database.tls = \"disable\" uses no certificate") }
            guard FileManager.default.isReadableFile(atPath: caFile) else {
                throw reader.error("database.ca_file", "cannot read the CA file \(caFile)")
            }
        }
    }

    func readCluster(_ table: TOMLTable, reader: TableReader, into section: inout DaemonConfiguration.ClusterSection) throws(ConfigurationError) {
        try reader.allowOnly(["lease_duration"], in: table, path: "cluster")
        if let value = try reader.duration(table, "lease_duration", path: "cluster.lease_duration", minimum: Self.leaseDurationBounds.lowerBound) {
            guard value <= Self.leaseDurationBounds.upperBound else {
                throw reader.error("cluster.lease_duration", "cluster.lease_duration must be at most \(Self.leaseDurationBounds.upperBound.shortText)")
            }
            section.leaseDuration = value
        }
    }

    /// Checks `[daemon] node_name`, or the host name it defaults to.
    func checkNodeName(_ name: String, explicit: Bool, file: String, reader: TableReader?) throws(ConfigurationError) {
        // Printable ASCII without spaces: PostgreSQL shows only printable ASCII in application_name, and the
        // name is a metrics label and a word in `tenantsyncctl nodes`.
        let printable = name.unicodeScalars.allSatisfy { (0x21...0x7E).contains($0.value) }
        guard !name.isEmpty, printable, name.count <= Self.maximumNodeNameLength else {
            let rule = "a node name is 1 to \(Self.maximumNodeNameLength) printable ASCII characters without spaces"
            if explicit { throw ConfigurationError(file: file, line: reader?.locator.line(of: "daemon.node_name"), message: "daemon.node_name: \(rule)") }
            throw ConfigurationError(
                file: file, line: nil,
                message: "the host name \"\(name.prefix(80))\" is not usable as the node name (\(rule)); set [daemon] node_name"
            )
        }
    }

    /// The database password: `password_file`, else the `database-password` credential, else none.
    ///
    /// Read only for a PostgreSQL url. A file named by path must belong to the daemon's user and be
    /// closed to group and others, like the sealing key; a systemd credential is read as it is.
    func readDatabasePassword(_ section: DaemonConfiguration.DatabaseSection, file: String, reader: TableReader?) throws(ConfigurationError) -> Secret? {
        guard section.url != nil else { return nil }
        let credentials = environment["CREDENTIALS_DIRECTORY"].flatMap { $0.isEmpty ? nil : $0 }
        let path: String
        let isCredential: Bool
        if let explicit = section.passwordFile {
            if !explicit.hasPrefix("/"), let credentials {
                (path, isCredential) = (credentials + "/" + explicit, true)
            } else {
                (path, isCredential) = (explicit, false)
            }
        } else if let credentials, FileManager.default.fileExists(atPath: credentials + "/" + ConfigurationDefaults.databasePasswordCredential) {
            (path, isCredential) = (credentials + "/" + ConfigurationDefaults.databasePasswordCredential, true)
        } else {
            return nil
        }
        let line = reader?.locator.line(of: section.passwordFile != nil ? "database.password_file" : "database.url")
        let data: Data
        do {
            data = try PrivateFile.read(path: path, what: "database password file", requirePrivate: !isCredential, maximumBytes: 4096)
        } catch {
            throw ConfigurationError(file: file, line: line, message: error.message)
        }
        var text = String(decoding: data, as: UTF8.self)
        if text.last?.isNewline == true { text.removeLast() }  // one trailing newline ("\n" or "\r\n"), as editors write it
        guard !text.isEmpty else { throw ConfigurationError(file: file, line: line, message: "the database password file \(path) is empty") }
        return Secret(text)
    }
}
