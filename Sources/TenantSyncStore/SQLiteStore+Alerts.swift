import Foundation
import GRDB
import TenantSyncCore

extension SQLiteStore: AlertStore {
    public func enqueueAlert(_ alert: NewAlert, channels: [String], at date: Date) async throws -> Alert {
        try await pool.write { db in try Self.insertAlert(db, alert, channels: channels, at: date) }
    }

    public func alert(id: Int64) async throws -> Alert? {
        try await pool.read { db in try Self.fetchAlert(db, id: id) }
    }

    public func alerts(includeAcknowledged: Bool, limit: Int) async throws -> [Alert] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM alerts \(includeAcknowledged ? "" : "WHERE acknowledged_at IS NULL") ORDER BY id DESC LIMIT ?",
                arguments: [limit]
            ).map(Self.alert(from:))
        }
    }

    public func acknowledgeAlert(id: Int64, at date: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE alerts SET acknowledged_at = coalesce(acknowledged_at, ?) WHERE id = ?",
                arguments: [Timestamp.text(date), id]
            )
            guard db.changesCount == 1 else { throw TenantSyncError(.invalidArgument, "No alert \(id).") }
        }
    }

    public func deliveries(alertID: Int64) async throws -> [AlertDelivery] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM alert_deliveries WHERE alert_id = ? ORDER BY channel", arguments: [alertID])
                .map(Self.delivery(from:))
        }
    }

    public func dueDeliveries(at date: Date, limit: Int) async throws -> [AlertDelivery] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM alert_deliveries WHERE state = 'pending' AND next_attempt_at <= ?
                    ORDER BY next_attempt_at, alert_id LIMIT ?
                    """,
                arguments: [Timestamp.text(date), limit]
            ).map(Self.delivery(from:))
        }
    }

    public func markDelivered(alertID: Int64, channel: String, at date: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE alert_deliveries SET state = 'delivered', delivered_at = ?, attempts = attempts + 1, last_error = NULL
                    WHERE alert_id = ? AND channel = ?
                    """,
                arguments: [Timestamp.text(date), alertID, channel]
            )
        }
    }

    public func markDeliveryFailed(alertID: Int64, channel: String, error: String, nextAttemptAt: Date) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE alert_deliveries SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?
                    WHERE alert_id = ? AND channel = ? AND state = 'pending'
                    """,
                arguments: [error, Timestamp.text(nextAttemptAt), alertID, channel]
            )
        }
    }

    public func nextDeliveryDate() async throws -> Date? {
        try await pool.read { db in
            Timestamp.date(try String.fetchOne(db, sql: "SELECT min(next_attempt_at) FROM alert_deliveries WHERE state = 'pending'"))
        }
    }

    public func discardPendingDeliveries(channel: String) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM alert_deliveries WHERE channel = ? AND state = 'pending'", arguments: [channel])
            return db.changesCount
        }
    }

    public func discardPendingDelivery(alertID: Int64, channel: String) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "DELETE FROM alert_deliveries WHERE alert_id = ? AND channel = ? AND state = 'pending'", arguments: [alertID, channel]
            )
        }
    }

    public func retryPendingDeliveries(channel: String, at date: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE alert_deliveries SET next_attempt_at = ? WHERE channel = ? AND state = 'pending' AND next_attempt_at > ?",
                arguments: [Timestamp.text(date), channel, Timestamp.text(date)]
            )
            return db.changesCount
        }
    }

    static func fetchAlert(_ db: Database, id: Int64) throws -> Alert? {
        try Row.fetchOne(db, sql: "SELECT * FROM alerts WHERE id = ?", arguments: [id]).map(alert(from:))
    }

    static func alert(from row: Row) -> Alert {
        Alert(
            id: row["id"], kind: row["kind"], severity: Alert.Severity(rawValue: row["severity"]) ?? .warning,
            tenantID: row["tenant_id"], accountID: row["account_id"], grantID: row["grant_id"], incidentID: row["incident_id"],
            subject: row["subject"], body: row["body"], facts: AlertFacts(storedJSON: row["details_json"]),
            createdAt: Timestamp.date(row["created_at"]) ?? .distantPast, acknowledgedAt: Timestamp.date(row["acknowledged_at"])
        )
    }

    static func delivery(from row: Row) -> AlertDelivery {
        AlertDelivery(
            alertID: row["alert_id"], channel: row["channel"], state: AlertDelivery.State(rawValue: row["state"]) ?? .pending,
            attempts: row["attempts"], nextAttemptAt: Timestamp.date(row["next_attempt_at"]) ?? .distantPast,
            lastError: row["last_error"], deliveredAt: Timestamp.date(row["delivered_at"])
        )
    }
}
