import Foundation
import Logging
import PostgresNIO
import TenantSyncCore

/// The alert outbox's insert, shared by every step that raises an alert inside its own transaction (the token
/// lifecycle, credential expiry, the rest of the AlertStore in `PostgreSQLStore+Alerts.swift`), and the AlertStore
/// methods the token lifecycle's tests read alerts back with.
extension PostgreSQLStore {
    public func enqueueAlert(_ alert: NewAlert, channels: [String], at date: Date) async throws -> Alert {
        let stored = try await transaction { connection in
            try await Self.insertAlert(connection, alert, channels: channels, at: date, logger: logger)
        }
        outboxChanged()
        return stored
    }

    public func alert(id: Int64) async throws -> Alert? {
        try await read { connection in
            try await PostgreSQLRows.first(
                connection.query("SELECT \(unescaped: PostgreSQLRows.alertColumns.joined(separator: ", ")) FROM alerts WHERE id = \(id)", logger: logger),
                PostgreSQLRows.alert
            )
        }
    }

    public func alerts(includeAcknowledged: Bool, limit: Int) async throws -> [Alert] {
        try await read { connection in
            try await PostgreSQLRows.all(
                connection.query(
                    """
                    SELECT \(unescaped: PostgreSQLRows.alertColumns.joined(separator: ", ")) FROM alerts
                    WHERE \(includeAcknowledged) OR acknowledged_at IS NULL ORDER BY id DESC LIMIT \(limit)
                    """,
                    logger: logger
                ),
                PostgreSQLRows.alert
            )
        }
    }

    public func deliveries(alertID: Int64) async throws -> [AlertDelivery] {
        try await read { connection in
            try await PostgreSQLRows.all(
                connection.query(
                    """
                    SELECT \(unescaped: PostgreSQLRows.deliveryColumns.joined(separator: ", ")) FROM alert_deliveries
                    WHERE alert_id = \(alertID) ORDER BY channel
                    """,
                    logger: logger
                ),
                PostgreSQLRows.delivery
            )
        }
    }

    /// Stores the alert and one pending delivery per channel inside the caller's transaction; returns the stored alert.
    ///
    /// After the caller commits, call ``outboxChanged()`` so that observers of the outbox wake up.
    static func insertAlert(_ connection: PostgresConnection, _ alert: NewAlert, channels: [String], at date: Date, logger: Logger) async throws -> Alert {
        let now = StoredDate.bound(date)
        let rows = try await connection.query(
            """
            INSERT INTO alerts (kind, severity, tenant_id, account_id, grant_id, incident_id, subject, body, details_json, created_at)
            VALUES (\(alert.kind), \(alert.severity.rawValue), \(alert.tenantID), \(alert.accountID), \(alert.grantID), \(alert.incidentID),
                \(alert.subject), \(alert.body), \(alert.facts.storedJSON), \(now))
            RETURNING \(unescaped: PostgreSQLRows.alertColumns.joined(separator: ", "))
            """,
            logger: logger
        )
        guard let stored = try await PostgreSQLRows.first(rows, PostgreSQLRows.alert) else {
            throw TenantSyncError(.storeUnavailable, "An alert vanished right after it was stored.")
        }
        if !channels.isEmpty {
            // One statement for every channel: the channel names travel as one array parameter.
            try await connection.query(
                """
                INSERT INTO alert_deliveries (alert_id, channel, next_attempt_at)
                SELECT \(stored.id), channel, \(now) FROM unnest(\(channels)::text[]) AS channel
                """,
                logger: logger
            )
        }
        return stored
    }

    /// Wakes the observers of the alert outbox (after a commit that stored an alert).
    func outboxChanged() {
        state.outboxChanged()
    }
}
