import Foundation
import GRDB
import TenantSyncCore

extension SQLiteStore: ConsentSessionStore {
    public func savePendingConsent(_ consent: PendingConsent, at date: Date) async throws {
        let sealed = try sealer.seal(consent.deviceCode, boundTo: Self.deviceCodePlace(consent.accountID))
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM consent_sessions WHERE expires_at <= ?", arguments: [Timestamp.text(date)])
            try db.execute(
                sql: """
                    INSERT INTO consent_sessions (account_id, stage, device_code_sealed, user_code, verification_uri, message,
                        interval_seconds, scopes, expires_at, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (account_id) DO UPDATE SET
                        stage = excluded.stage, device_code_sealed = excluded.device_code_sealed, user_code = excluded.user_code,
                        verification_uri = excluded.verification_uri, message = excluded.message,
                        interval_seconds = excluded.interval_seconds, scopes = excluded.scopes, expires_at = excluded.expires_at,
                        created_at = excluded.created_at
                    """,
                arguments: [
                    consent.accountID, consent.stage, sealed, consent.userCode, consent.verificationURI, consent.message,
                    consent.interval.components.seconds, consent.scopes.joined(separator: " "), Timestamp.text(consent.expiresAt),
                    Timestamp.text(date),
                ]
            )
        }
    }

    public func pendingConsent(accountID: Int64, stage: String, now: Date) async throws -> PendingConsent? {
        struct Stored: Sendable { var sealed: Data; var userCode: String; var uri: String; var message: String?; var interval: Int64; var scopes: String; var expiresAt: Date }
        let stored = try await pool.read { db -> Stored? in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT * FROM consent_sessions WHERE account_id = ? AND stage = ? AND expires_at > ?",
                arguments: [accountID, stage, Timestamp.text(now)]
            ), let expiresAt = Timestamp.date(row["expires_at"]) else { return nil }
            return Stored(
                sealed: row["device_code_sealed"], userCode: row["user_code"], uri: row["verification_uri"], message: row["message"],
                interval: row["interval_seconds"], scopes: row["scopes"], expiresAt: expiresAt
            )
        }
        guard let stored else { return nil }
        return PendingConsent(
            accountID: accountID, stage: stage, deviceCode: try sealer.open(stored.sealed, boundTo: Self.deviceCodePlace(accountID)),
            userCode: stored.userCode, verificationURI: stored.uri, message: stored.message, interval: .seconds(stored.interval),
            scopes: Self.scopes(stored.scopes), expiresAt: stored.expiresAt
        )
    }

    public func removePendingConsent(accountID: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM consent_sessions WHERE account_id = ?", arguments: [accountID])
        }
    }

    static func deviceCodePlace(_ accountID: Int64) -> String { "consent_sessions:\(accountID):device_code" }
}
