/// One schema migration: its version, file name and SQL text.
public struct SchemaMigration: Sendable {
    public let version: Int
    public let fileName: String
    public let sql: String

    public init(version: Int, fileName: String, sql: String) {
        self.version = version
        self.fileName = fileName
        self.sql = sql
    }
}

/// The schema migrations embedded in the binary, in the order they apply.
///
/// Keep this list, `Package.swift`'s `resources` and the files in
/// `Migrations/` in step; a test checks that they agree.
public enum SchemaMigrations {
    public static let all: [SchemaMigration] = [
        migration("0001_initial.sql", PackageResources._001_initial_sql),
        migration("0002_sync_holds.sql", PackageResources._002_sync_holds_sql),
        migration("0003_directory_members_index.sql", PackageResources._003_directory_members_index_sql),
        migration("0004_inline_mail_flow.sql", PackageResources._004_inline_mail_flow_sql),
        migration("0005_store_write_probe.sql", PackageResources._005_store_write_probe_sql),
        migration("0006_fleet_indexes.sql", PackageResources._006_fleet_indexes_sql),
        migration("0007_directory_summary.sql", PackageResources._007_directory_summary_sql),
        migration("0008_credential_expiry.sql", PackageResources._008_credential_expiry_sql),
        migration("0009_tenant_last_run.sql", PackageResources._009_tenant_last_run_sql),
        migration("0010_account_certificate.sql", PackageResources._010_account_certificate_sql),
        migration("0011_consent_sessions.sql", PackageResources._011_consent_sessions_sql),
        migration("0012_metrics_read_indexes.sql", PackageResources._012_metrics_read_indexes_sql),
        migration("0013_metrics_versions.sql", PackageResources._013_metrics_versions_sql),
    ]

    /// The newest schema version this binary knows.
    public static var latestVersion: Int { all.last?.version ?? 0 }

    private static func migration(_ fileName: String, _ bytes: [UInt8]) -> SchemaMigration {
        let version = Int(fileName.prefix(4)) ?? 0
        return SchemaMigration(version: version, fileName: fileName, sql: String(decoding: bytes, as: UTF8.self))
    }
}
