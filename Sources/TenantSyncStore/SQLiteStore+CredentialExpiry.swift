import Foundation
import GRDB
import TenantSyncCore

extension SQLiteStore: CredentialExpiryStore {
    public func recordCredentialExpiry(_ expiry: CredentialExpiry, at date: Date) async throws {
        try await pool.write { db in
            // The alert stage survives only while the credential is the same one.
            try db.execute(
                sql: """
                    INSERT INTO credential_expiries (credential, account_id, kind, thumbprint, expires_at, alerted_days, updated_at)
                    VALUES (?, ?, ?, ?, ?, NULL, ?)
                    ON CONFLICT (credential) DO UPDATE SET
                        account_id = excluded.account_id, kind = excluded.kind, thumbprint = excluded.thumbprint,
                        alerted_days = CASE WHEN expires_at = excluded.expires_at AND thumbprint IS excluded.thumbprint
                                            THEN alerted_days ELSE NULL END,
                        expires_at = excluded.expires_at, updated_at = excluded.updated_at
                    """,
                arguments: [
                    expiry.credential, expiry.accountID, expiry.kind.rawValue, expiry.thumbprint, Timestamp.text(expiry.expiresAt),
                    Timestamp.text(date),
                ]
            )
        }
    }

    /// Keeps a Teams Chat account's secret expiry in step with the secret just stored (in the same transaction).
    static func recordAccountSecretExpiry(_ db: Database, accountID: Int64, expiresAt: Date?, at date: Date) throws {
        guard let expiresAt else {
            try db.execute(sql: "DELETE FROM credential_expiries WHERE credential = ?", arguments: [CredentialExpiry.account(accountID)])
            return
        }
        try db.execute(
            sql: """
                INSERT INTO credential_expiries (credential, account_id, kind, thumbprint, expires_at, alerted_days, updated_at)
                VALUES (?, ?, 'secret', NULL, ?, NULL, ?)
                ON CONFLICT (credential) DO UPDATE SET
                    kind = 'secret', thumbprint = NULL,
                    alerted_days = CASE WHEN expires_at = excluded.expires_at AND kind = 'secret' THEN alerted_days ELSE NULL END,
                    expires_at = excluded.expires_at, updated_at = excluded.updated_at
                """,
            arguments: [CredentialExpiry.account(accountID), accountID, Timestamp.text(expiresAt), Timestamp.text(date)]
        )
    }

    public func removeCredentialExpiry(credential: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM credential_expiries WHERE credential = ?", arguments: [credential])
        }
    }

    public func credentialExpiries() async throws -> [CredentialExpiry] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM credential_expiries ORDER BY expires_at, credential").compactMap { row in
                guard let kind = CredentialExpiry.Kind(rawValue: row["kind"]), let expiresAt = Timestamp.date(row["expires_at"]) else {
                    return nil
                }
                return CredentialExpiry(
                    credential: row["credential"], accountID: row["account_id"], kind: kind, thumbprint: row["thumbprint"],
                    expiresAt: expiresAt, alertedDays: row["alerted_days"]
                )
            }
        }
    }

    public func raiseCredentialExpiryAlert(
        credential: String, expiresAt: Date, days: Int, alert: NewAlert, channels: [String], at date: Date
    ) async throws -> Alert? {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE credential_expiries SET alerted_days = ?, updated_at = ?
                    WHERE credential = ? AND expires_at = ? AND (alerted_days IS NULL OR alerted_days > ?)
                    """,
                arguments: [days, Timestamp.text(date), credential, Timestamp.text(expiresAt), days]
            )
            guard db.changesCount == 1 else { return nil }
            return try Self.insertAlert(db, alert, channels: channels, at: date)
        }
    }
}
