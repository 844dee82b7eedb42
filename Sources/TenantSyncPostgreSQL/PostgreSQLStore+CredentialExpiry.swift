import Foundation
import PostgresNIO
import TenantSyncCore

extension PostgreSQLStore: CredentialExpiryStore {
    public func recordCredentialExpiry(_ expiry: CredentialExpiry, at date: Date) async throws {
        try await transaction { connection in
            // The alert stage survives only while the credential is the same one.
            try await connection.query(
                """
                INSERT INTO credential_expiries (credential, account_id, kind, thumbprint, expires_at, alerted_days, updated_at)
                VALUES (\(expiry.credential), \(expiry.accountID), \(expiry.kind.rawValue), \(expiry.thumbprint),
                    \(StoredDate.bound(expiry.expiresAt)), NULL, \(StoredDate.bound(date)))
                ON CONFLICT (credential) DO UPDATE SET
                    account_id = excluded.account_id, kind = excluded.kind, thumbprint = excluded.thumbprint,
                    alerted_days = CASE WHEN credential_expiries.expires_at = excluded.expires_at
                                            AND credential_expiries.thumbprint IS NOT DISTINCT FROM excluded.thumbprint
                                        THEN credential_expiries.alerted_days ELSE NULL END,
                    expires_at = excluded.expires_at, updated_at = excluded.updated_at
                """,
                logger: logger
            )
        }
    }

    public func removeCredentialExpiry(credential: String) async throws {
        try await transaction { connection in
            try await connection.query("DELETE FROM credential_expiries WHERE credential = \(credential)", logger: logger)
        }
    }

    public func credentialExpiries() async throws -> [CredentialExpiry] {
        try await read { connection in
            try await PostgreSQLRows.all(
                connection.query(
                    """
                    SELECT credential, account_id, kind, thumbprint, expires_at, alerted_days FROM credential_expiries
                    ORDER BY expires_at, credential
                    """,
                    logger: logger
                )
            ) { cells -> CredentialExpiry? in
                guard let kind = CredentialExpiry.Kind(rawValue: try cells("kind")) else { return nil }
                return CredentialExpiry(
                    credential: try cells("credential"), accountID: try cells("account_id"), kind: kind, thumbprint: try cells("thumbprint"),
                    expiresAt: try cells.date("expires_at"), alertedDays: try cells("alerted_days")
                )
            }.compactMap { $0 }
        }
    }

    public func raiseCredentialExpiryAlert(
        credential: String, expiresAt: Date, days: Int, alert: NewAlert, channels: [String], at date: Date
    ) async throws -> Alert? {
        let stored = try await transaction { connection -> Alert? in
            let changed = try await Self.count(connection.query(
                """
                UPDATE credential_expiries SET alerted_days = \(days), updated_at = \(StoredDate.bound(date))
                WHERE credential = \(credential) AND expires_at = \(StoredDate.bound(expiresAt)) AND (alerted_days IS NULL OR alerted_days > \(days))
                RETURNING 1
                """,
                logger: logger
            ))
            guard changed == 1 else { return nil }
            return try await Self.insertAlert(connection, alert, channels: channels, at: date, logger: logger)
        }
        if stored != nil { outboxChanged() }
        return stored
    }
}
