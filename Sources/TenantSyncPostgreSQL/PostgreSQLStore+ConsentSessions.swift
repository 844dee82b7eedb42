import Foundation
import PostgresNIO
import TenantSyncCore

extension PostgreSQLStore: ConsentSessionStore {
    public func savePendingConsent(_ consent: PendingConsent, at date: Date) async throws {
        let sealed = try sealer.seal(consent.deviceCode, boundTo: Self.deviceCodePlace(consent.accountID))
        let interval = Int(consent.interval.components.seconds)
        try await transaction { connection in
            try await connection.query("DELETE FROM consent_sessions WHERE expires_at <= \(StoredDate.bound(date))", logger: logger)
            try await connection.query(
                """
                INSERT INTO consent_sessions (account_id, stage, device_code_sealed, user_code, verification_uri, message,
                    interval_seconds, scopes, expires_at, created_at)
                VALUES (\(consent.accountID), \(consent.stage), \(sealed), \(consent.userCode), \(consent.verificationURI), \(consent.message),
                    \(interval), \(consent.scopes.joined(separator: " ")), \(StoredDate.bound(consent.expiresAt)), \(StoredDate.bound(date)))
                ON CONFLICT (account_id) DO UPDATE SET
                    stage = excluded.stage, device_code_sealed = excluded.device_code_sealed, user_code = excluded.user_code,
                    verification_uri = excluded.verification_uri, message = excluded.message,
                    interval_seconds = excluded.interval_seconds, scopes = excluded.scopes, expires_at = excluded.expires_at,
                    created_at = excluded.created_at
                """,
                logger: logger
            )
        }
    }

    public func pendingConsent(accountID: Int64, stage: String, now: Date) async throws -> PendingConsent? {
        struct Row { var sealed: Data; var userCode: String; var uri: String; var message: String?; var interval: Int; var scopes: String; var expiresAt: Date }
        let row = try await read { connection in
            try await PostgreSQLRows.first(
                connection.query(
                    """
                    SELECT device_code_sealed, user_code, verification_uri, message, interval_seconds, scopes, expires_at
                    FROM consent_sessions WHERE account_id = \(accountID) AND stage = \(stage) AND expires_at > \(StoredDate.bound(now))
                    """,
                    logger: logger
                )
            ) { cells in
                Row(
                    sealed: try cells("device_code_sealed"), userCode: try cells("user_code"), uri: try cells("verification_uri"),
                    message: try cells("message"), interval: try cells("interval_seconds"), scopes: try cells("scopes"),
                    expiresAt: try cells.date("expires_at")
                )
            }
        }
        guard let row else { return nil }
        return PendingConsent(
            accountID: accountID, stage: stage, deviceCode: try sealer.open(row.sealed, boundTo: Self.deviceCodePlace(accountID)),
            userCode: row.userCode, verificationURI: row.uri, message: row.message, interval: .seconds(row.interval),
            scopes: row.scopes.split(separator: " ").map(String.init), expiresAt: row.expiresAt
        )
    }

    public func removePendingConsent(accountID: Int64) async throws {
        try await transaction { connection in
            try await connection.query("DELETE FROM consent_sessions WHERE account_id = \(accountID)", logger: logger)
        }
    }

    /// The same place as the SQLite store's, so that a copied sealed device code opens unchanged.
    static func deviceCodePlace(_ accountID: Int64) -> String { "consent_sessions:\(accountID):device_code" }
}
