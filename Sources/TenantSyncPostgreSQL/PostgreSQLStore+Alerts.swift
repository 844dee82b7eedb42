import Foundation
import PostgresNIO
import TenantSyncCore

/// The alert outbox: the operator's reads and the dispatcher's deliveries, with the SQLite store's semantics
/// (`Sources/TenantSyncStore/SQLiteStore+Alerts.swift`, `+Overview.swift`). The insert shared with the token lifecycle
/// is in `PostgreSQLStore+AlertRows.swift`.
extension PostgreSQLStore: AlertStore {
    public func alerts(_ query: AlertQuery) async throws -> [Alert] {
        var binds = PostgresBindings()
        func bind(_ value: some PostgresDynamicTypeEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        var conditions: [String] = []
        switch query.acknowledgement {
        case .unacknowledged: conditions.append("acknowledged_at IS NULL")
        case .acknowledged: conditions.append("acknowledged_at IS NOT NULL")
        case .any: break
        }
        if let tenantID = query.tenantID { conditions.append("tenant_id = \(bind(tenantID))") }
        if let service = query.service {
            conditions.append("account_id IN (SELECT id FROM service_accounts WHERE service = \(bind(service.rawValue)))")
        }
        if let before = query.beforeID { conditions.append("id < \(bind(before))") }
        let sql = """
            SELECT \(PostgreSQLRows.alertColumns.joined(separator: ", ")) FROM alerts
            \(conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "))
            ORDER BY id DESC LIMIT \(bind(max(query.limit, 0)))
            """
        let statement = PostgresQuery(unsafeSQL: sql, binds: binds)
        return try await read { connection in
            try await PostgreSQLRows.all(connection.query(statement, logger: logger), PostgreSQLRows.alert)
        }
    }

    public func unacknowledgedAlertCount() async throws -> Int {
        try await read { connection in
            try await Self.one(connection.query("SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL", logger: logger), Int.self) ?? 0
        }
    }

    public func acknowledgeAlert(id: Int64, at date: Date) async throws {
        try await transaction { connection in
            let found = try await Self.one(
                connection.query(
                    "UPDATE alerts SET acknowledged_at = coalesce(acknowledged_at, \(StoredDate.bound(date))) WHERE id = \(id) RETURNING id",
                    logger: logger
                ),
                Int64.self
            )
            guard found != nil else { throw TenantSyncError(.invalidArgument, "No alert \(id).") }
        }
    }

    public func deliveries(alertIDs: [Int64]) async throws -> [Int64: [AlertDelivery]] {
        guard !alertIDs.isEmpty else { return [:] }
        return try await read { connection in
            Dictionary(
                grouping: try await PostgreSQLRows.all(
                    connection.query(
                        """
                        SELECT \(unescaped: PostgreSQLRows.deliveryColumns.joined(separator: ", ")) FROM alert_deliveries
                        WHERE alert_id = ANY(\(alertIDs)::bigint[]) ORDER BY alert_id, channel
                        """,
                        logger: logger
                    ),
                    PostgreSQLRows.delivery
                ),
                by: \.alertID
            )
        }
    }

    public func pendingDeliveriesByChannel() async throws -> [ChannelBacklog] {
        try await read { connection in
            try await PostgreSQLRows.all(
                connection.query(
                    """
                    SELECT channel, count(*) AS n, min(next_attempt_at) AS oldest FROM alert_deliveries
                    WHERE state = 'pending' GROUP BY channel ORDER BY channel
                    """,
                    logger: logger
                )
            ) { cells in
                ChannelBacklog(channel: try cells("channel"), pending: try cells("n"), oldestPendingAt: try cells.optionalDate("oldest"))
            }
        }
    }

    public func dueDeliveries(at date: Date, limit: Int) async throws -> [AlertDelivery] {
        try await read { connection in
            try await PostgreSQLRows.all(
                connection.query(
                    """
                    SELECT \(unescaped: PostgreSQLRows.deliveryColumns.joined(separator: ", ")) FROM alert_deliveries
                    WHERE state = 'pending' AND next_attempt_at <= \(StoredDate.bound(date))
                    ORDER BY next_attempt_at, alert_id LIMIT \(limit)
                    """,
                    logger: logger
                ),
                PostgreSQLRows.delivery
            )
        }
    }

    public func markDelivered(alertID: Int64, channel: String, at date: Date) async throws {
        try await transaction { connection in
            try await connection.query(
                """
                UPDATE alert_deliveries SET state = 'delivered', delivered_at = \(StoredDate.bound(date)), attempts = attempts + 1,
                    last_error = NULL
                WHERE alert_id = \(alertID) AND channel = \(channel)
                """,
                logger: logger
            )
        }
    }

    public func markDeliveryFailed(alertID: Int64, channel: String, error: String, nextAttemptAt: Date) async throws {
        try await transaction { connection in
            try await connection.query(
                """
                UPDATE alert_deliveries SET attempts = attempts + 1, last_error = \(error), next_attempt_at = \(StoredDate.bound(nextAttemptAt))
                WHERE alert_id = \(alertID) AND channel = \(channel) AND state = 'pending'
                """,
                logger: logger
            )
        }
    }

    public func nextDeliveryDate() async throws -> Date? {
        try await read { connection in
            StoredDate.read(
                try await Self.one(
                    connection.query("SELECT min(next_attempt_at) FROM alert_deliveries WHERE state = 'pending'", logger: logger), Date?.self
                ) ?? nil
            )
        }
    }

    public func discardPendingDeliveries(channel: String) async throws -> Int {
        try await transaction { connection in
            try await Self.one(
                connection.query(
                    """
                    WITH gone AS (DELETE FROM alert_deliveries WHERE channel = \(channel) AND state = 'pending' RETURNING 1)
                    SELECT count(*) FROM gone
                    """,
                    logger: logger
                ),
                Int.self
            ) ?? 0
        }
    }

    public func discardPendingDelivery(alertID: Int64, channel: String) async throws {
        try await transaction { connection in
            try await connection.query(
                "DELETE FROM alert_deliveries WHERE alert_id = \(alertID) AND channel = \(channel) AND state = 'pending'", logger: logger
            )
        }
    }

    public func retryPendingDeliveries(channel: String, at date: Date) async throws -> Int {
        let now = StoredDate.bound(date)
        return try await transaction { connection in
            try await Self.one(
                connection.query(
                    """
                    WITH moved AS (
                        UPDATE alert_deliveries SET next_attempt_at = \(now)
                        WHERE channel = \(channel) AND state = 'pending' AND next_attempt_at > \(now) RETURNING 1)
                    SELECT count(*) FROM moved
                    """,
                    logger: logger
                ),
                Int.self
            ) ?? 0
        }
    }
}
