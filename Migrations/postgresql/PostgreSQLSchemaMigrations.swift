import Migrations

/// The PostgreSQL store's schema migrations embedded in the binary, in the order they apply.
///
/// A sequence of its own, starting at 1 (`Migrations/postgresql/`); keep this list, `Package.swift`'s
/// resources of the `PostgreSQLMigrations` target and the files in step (a test checks that they agree).
public enum PostgreSQLSchemaMigrations {
    public static let all: [SchemaMigration] = [
        migration("0001_initial.sql", PackageResources._001_initial_sql),
        migration("0002_alert_outbox_notify.sql", PackageResources._002_alert_outbox_notify_sql),
        migration("0003_cluster.sql", PackageResources._003_cluster_sql),
        migration("0004_consent_sessions.sql", PackageResources._004_consent_sessions_sql),
        migration("0005_metrics_versions.sql", PackageResources._005_metrics_versions_sql),
    ]

    /// The newest schema version this binary knows.
    public static var latestVersion: Int { all.last?.version ?? 0 }

    private static func migration(_ fileName: String, _ bytes: [UInt8]) -> SchemaMigration {
        SchemaMigration(version: Int(fileName.prefix(4)) ?? 0, fileName: fileName, sql: String(decoding: bytes, as: UTF8.self))
    }
}
