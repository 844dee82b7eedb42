import Foundation
import Logging
import PostgresNIO
import TenantSyncCore

/// The account writes and reads more than one step shares (inside a caller's transaction).
extension PostgreSQLStore {
    /// The places sealed values are bound to: the SQLite store's, so a value sealed by either opens in the same row.
    static func clientSecretPlace(_ accountID: Int64) -> String { "service_accounts:\(accountID):client_secret" }
    static func clientKeyPlace(_ accountID: Int64) -> String { "service_accounts:\(accountID):client_key" }
    static func tokenPlace(_ grantID: Int64, _ kind: String) -> String { "token_sets:\(grantID):\(kind)" }

    /// Runs one statement ending in `RETURNING 1` in its own transaction; returns how many rows it changed.
    func changedRows(_ statement: PostgresQuery) async throws -> Int {
        try await transaction { connection in try await Self.count(connection.query(statement, logger: logger)) }
    }

    static func count(_ rows: PostgresRowSequence) async throws -> Int {
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }

    func requireAccount(_ id: Int64, changed: Int) throws {
        guard changed == 1 else {
            throw TenantSyncError(.accountNotFound, "No service account \(id).", context: ["account.id": "\(id)"])
        }
    }

    static func fetchAccount(_ connection: PostgresConnection, id: Int64, logger: Logger) async throws -> ServiceAccount? {
        try await PostgreSQLRows.first(
            connection.query(
                "SELECT \(unescaped: PostgreSQLRows.accountColumns.joined(separator: ", ")) FROM service_accounts WHERE id = \(id)", logger: logger
            ),
            PostgreSQLRows.account
        )
    }

    static func fetchGrant(_ connection: PostgresConnection, id: Int64, logger: Logger) async throws -> Grant? {
        try await PostgreSQLRows.first(
            connection.query("SELECT \(unescaped: PostgreSQLRows.grantColumns.joined(separator: ", ")) FROM grants WHERE id = \(id)", logger: logger),
            PostgreSQLRows.grant
        )
    }

    /// The secret replaces any certificate (an app has one credential here); its expiry follows in the same transaction.
    static func storeClientSecret(
        _ connection: PostgresConnection, accountID: Int64, appID: String, sealed: Data, expiresAt: Date?, at date: Date, logger: Logger
    ) async throws {
        let changed = try await count(connection.query(
            """
            UPDATE service_accounts SET app_id = \(appID), client_secret_sealed = \(sealed),
                client_secret_expires_at = \(StoredDate.bound(expiresAt)), updated_at = \(StoredDate.bound(date)),
                client_certificate_pem = NULL, client_key_sealed = NULL
            WHERE id = \(accountID) RETURNING 1
            """,
            logger: logger
        ))
        guard changed == 1 else {
            throw TenantSyncError(.accountNotFound, "No service account \(accountID).", context: ["account.id": "\(accountID)"])
        }
        try await recordAccountSecretExpiry(connection, accountID: accountID, expiresAt: expiresAt, at: date, logger: logger)
    }

    /// Keeps a Teams Chat account's secret expiry in step with the secret just stored.
    static func recordAccountSecretExpiry(_ connection: PostgresConnection, accountID: Int64, expiresAt: Date?, at date: Date, logger: Logger) async throws {
        let credential = CredentialExpiry.account(accountID)
        guard let expiresAt else {
            try await connection.query("DELETE FROM credential_expiries WHERE credential = \(credential)", logger: logger)
            return
        }
        try await connection.query(
            """
            INSERT INTO credential_expiries (credential, account_id, kind, thumbprint, expires_at, alerted_days, updated_at)
            VALUES (\(credential), \(accountID), 'secret', NULL, \(StoredDate.bound(expiresAt)), NULL, \(StoredDate.bound(date)))
            ON CONFLICT (credential) DO UPDATE SET
                kind = 'secret', thumbprint = NULL,
                alerted_days = CASE WHEN credential_expiries.expires_at = excluded.expires_at AND credential_expiries.kind = 'secret'
                                    THEN credential_expiries.alerted_days ELSE NULL END,
                expires_at = excluded.expires_at, updated_at = excluded.updated_at
            """,
            logger: logger
        )
    }

    /// The certificate replaces any secret; its expiry (the certificate's notAfter) is kept in `credential_expiries`.
    static func storeClientCertificate(
        _ connection: PostgresConnection, accountID: Int64, appID: String, certificatePEM: String, keySealed: Data, thumbprint: String,
        expiresAt: Date, at date: Date, logger: Logger
    ) async throws {
        let changed = try await count(connection.query(
            """
            UPDATE service_accounts SET app_id = \(appID), client_certificate_pem = \(certificatePEM), client_key_sealed = \(keySealed),
                client_secret_sealed = NULL, client_secret_expires_at = NULL, updated_at = \(StoredDate.bound(date))
            WHERE id = \(accountID) RETURNING 1
            """,
            logger: logger
        ))
        guard changed == 1 else {
            throw TenantSyncError(.accountNotFound, "No service account \(accountID).", context: ["account.id": "\(accountID)"])
        }
        try await connection.query(
            """
            INSERT INTO credential_expiries (credential, account_id, kind, thumbprint, expires_at, alerted_days, updated_at)
            VALUES (\(CredentialExpiry.account(accountID)), \(accountID), 'certificate', \(thumbprint), \(StoredDate.bound(expiresAt)), NULL,
                \(StoredDate.bound(date)))
            ON CONFLICT (credential) DO UPDATE SET
                alerted_days = CASE WHEN credential_expiries.expires_at = excluded.expires_at AND credential_expiries.kind = 'certificate'
                                        AND credential_expiries.thumbprint IS NOT DISTINCT FROM excluded.thumbprint
                                    THEN credential_expiries.alerted_days ELSE NULL END,
                kind = 'certificate', thumbprint = excluded.thumbprint,
                expires_at = excluded.expires_at, updated_at = excluded.updated_at
            """,
            logger: logger
        )
    }
}
