import Foundation
import PostgreSQLMigrations
import Testing

/// Package.swift's resources, PostgreSQLSchemaMigrations.all and the files in Migrations/postgresql/ must agree.
@Suite struct PostgreSQLMigrationFilesTests {
    @Test func embeddedMigrationsMatchTheFilesOnDisk() throws {
        let directory = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Migrations/postgresql")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files == PostgreSQLSchemaMigrations.all.map(\.fileName))
        for migration in PostgreSQLSchemaMigrations.all {
            let text = try String(contentsOf: directory.appendingPathComponent(migration.fileName), encoding: .utf8)
            #expect(text == migration.sql, "\(migration.fileName) embedded text differs from the file")
        }
        #expect(PostgreSQLSchemaMigrations.all.map(\.version) == Array(1...PostgreSQLSchemaMigrations.all.count))
    }
}
