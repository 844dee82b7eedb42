import Foundation
import Logging
import PostgresNIO
import TenantSyncCore

/// The `nodes` table: each daemon's announcement and heartbeat, listed with the leases it holds.
extension PostgreSQLStore {
    public func announceNode(name: String, version: String, startedAt: Date) async throws {
        try await transaction { connection in
            try await connection.query(
                """
                INSERT INTO nodes (name, version, started_at, last_heartbeat_at)
                VALUES (\(name), \(version), \(StoredDate.bound(startedAt)), clock_timestamp())
                ON CONFLICT (name) DO UPDATE SET
                    version = excluded.version, started_at = excluded.started_at, last_heartbeat_at = excluded.last_heartbeat_at
                """,
                logger: logger
            )
        }
    }

    public func heartbeat(node: String) async throws {
        let changed = try await transaction { connection in
            try await Self.count(connection.query(
                "UPDATE nodes SET last_heartbeat_at = clock_timestamp() WHERE name = \(node) RETURNING 1", logger: logger
            ))
        }
        guard changed == 1 else {
            throw TenantSyncError(.nodeNotAnnounced, "Node \(node) sent a heartbeat before announcing itself.", context: ["node.name": node])
        }
    }

    public func nodes() async throws -> [NodeRecord] {
        let rows = try await read { connection in
            try await PostgreSQLRows.all(
                connection.query(
                    """
                    SELECT n.name, n.version, n.started_at, n.last_heartbeat_at,
                        (extract(epoch FROM clock_timestamp() - n.last_heartbeat_at) * 1000)::bigint AS silent_ms,
                        l.kind, count(l.key) AS held
                    FROM nodes n LEFT JOIN leases l ON l.holder = n.name AND l.expires_at > clock_timestamp()
                    GROUP BY n.name, l.kind ORDER BY n.name, l.kind
                    """,
                    logger: logger
                )
            ) { cells in
                (
                    NodeRecord(
                        name: try cells("name"), version: try cells("version"), startedAt: try cells.date("started_at"),
                        lastHeartbeatAt: try cells.date("last_heartbeat_at"), silentFor: .milliseconds(max(0, try cells("silent_ms", as: Int64.self))),
                        leasesHeld: [:]
                    ),
                    (try cells("kind", as: String?.self)).flatMap(LeaseKind.init(rawValue:)),
                    try cells("held", as: Int64.self)
                )
            }
        }
        var nodes: [NodeRecord] = []
        for (node, kind, held) in rows {
            if nodes.last?.name != node.name { nodes.append(node) }
            if let kind { nodes[nodes.count - 1].leasesHeld[kind] = Int(held) }
        }
        return nodes
    }
}
