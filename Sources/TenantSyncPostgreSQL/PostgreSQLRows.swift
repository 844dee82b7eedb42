import Foundation
import PostgresNIO
import TenantSyncCore

/// The PostgreSQL store's rows as domain values: the column lists every query selects, and their decoding by name.
///
/// A joined query selects a table's columns with a prefix (`a_id`, `t_domain`); the decoders take that prefix.
enum PostgreSQLRows {
    static let tenantColumns = ["id", "domain", "display_name", "sync_scope", "created_at", "updated_at"]
    static let accountColumns = [
        "id", "tenant_id", "service", "state", "provisioning_step", "provisioning_error", "app_id", "client_secret_expires_at",
        "licensing_model", "details_json", "inline_policy", "inline_direction", "created_at", "updated_at",
    ]
    static let grantColumns = ["id", "account_id", "name", "resource", "flow", "state", "created_at", "updated_at"]
    static let incidentColumns = [
        "id", "grant_id", "account_id", "kind", "error", "aadsts_code", "trace_id", "correlation_id", "first_seen_at", "last_seen_at",
        "occurrences", "resolved_at",
    ]
    static let runColumns = [
        "id", "tenant_id", "service", "trigger", "mode", "state", "started_at", "finished_at", "pages", "users_added",
        "users_changed", "users_removed", "groups_added", "groups_changed", "groups_removed", "memberships_added",
        "memberships_removed", "error", "note",
    ]
    static let alertColumns = [
        "id", "kind", "severity", "tenant_id", "account_id", "grant_id", "incident_id", "subject", "body", "details_json",
        "created_at", "acknowledged_at",
    ]

    static let deliveryColumns = ["alert_id", "channel", "state", "attempts", "next_attempt_at", "last_error", "delivered_at"]

    /// `table.column AS prefixcolumn, …` for a select list (names from the lists above, never from input).
    static func select(_ columns: [String], from table: String, as prefix: String = "") -> String {
        columns.map { "\(table).\($0) AS \(prefix)\($0)" }.joined(separator: ", ")
    }

    /// Every row of `rows`, mapped.
    static func all<Value>(_ rows: PostgresRowSequence, _ map: (Cells) throws -> Value) async throws -> [Value] {
        var values: [Value] = []
        for try await row in rows { values.append(try map(Cells(row))) }
        return values
    }

    /// The first row, mapped; `nil` without one.
    static func first<Value>(_ rows: PostgresRowSequence, _ map: (Cells) throws -> Value) async throws -> Value? {
        for try await row in rows { return try map(Cells(row)) }
        return nil
    }

    /// One row's columns by name, with the store's date rounding applied on the way out.
    struct Cells {
        let row: PostgresRandomAccessRow
        var prefix = ""

        init(_ row: PostgresRow) { self.row = row.makeRandomAccess() }

        private init(row: PostgresRandomAccessRow, prefix: String) {
            self.row = row
            self.prefix = prefix
        }

        func prefixed(_ prefix: String) -> Cells { Cells(row: row, prefix: prefix) }

        func callAsFunction<Value: PostgresDecodable>(_ name: String, as type: Value.Type = Value.self) throws -> Value {
            try row[prefix + name].decode(Value.self)
        }

        func date(_ name: String) throws -> Date { StoredDate.read(try self(name, as: Date.self)) }
        func optionalDate(_ name: String) throws -> Date? { StoredDate.read(try self(name, as: Date?.self)) }
        func isNull(_ name: String) -> Bool { row[prefix + name].bytes == nil }
    }

    static func tenant(_ cells: Cells) throws -> Tenant {
        Tenant(
            id: try cells("id"), domain: try cells("domain"), displayName: try cells("display_name"),
            syncScope: SyncScope(rawValue: try cells("sync_scope")) ?? .all,
            createdAt: try cells.date("created_at"), updatedAt: try cells.date("updated_at")
        )
    }

    static func account(_ cells: Cells) throws -> ServiceAccount {
        let service: String = try cells("service")
        guard let kind = ServiceKind(rawValue: service) else {
            throw TenantSyncError(.storeUnavailable, "A stored account names an unknown service \(service).")
        }
        return ServiceAccount(
            id: try cells("id"), tenantID: try cells("tenant_id"), service: kind,
            state: AccountState(rawValue: try cells("state")) ?? .provisioning,
            provisioningStep: try cells("provisioning_step"), provisioningError: try cells("provisioning_error"),
            appID: try cells("app_id"), clientSecretExpiresAt: try cells.optionalDate("client_secret_expires_at"),
            licensingModel: (try cells("licensing_model", as: String?.self)).flatMap(LicensingModel.init(rawValue:)),
            detailsJSON: try cells("details_json"), inlinePolicy: try cells("inline_policy"),
            inlineDirection: (try cells("inline_direction", as: String?.self)).flatMap(InlineDirection.init(rawValue:)),
            createdAt: try cells.date("created_at"), updatedAt: try cells.date("updated_at")
        )
    }

    static func grant(_ cells: Cells) throws -> Grant {
        Grant(
            id: try cells("id"), accountID: try cells("account_id"), name: try cells("name"), resource: try cells("resource"),
            flow: GrantFlow(rawValue: try cells("flow")) ?? .delegated, state: GrantState(rawValue: try cells("state")) ?? .pending,
            createdAt: try cells.date("created_at"), updatedAt: try cells.date("updated_at")
        )
    }

    static func incident(_ cells: Cells) throws -> Incident {
        Incident(
            id: try cells("id"), grantID: try cells("grant_id"), accountID: try cells("account_id"),
            kind: Incident.Kind(rawValue: try cells("kind")) ?? .tokenInvalid,
            error: try cells("error"), aadstsCode: try cells("aadsts_code"), traceID: try cells("trace_id"),
            correlationID: try cells("correlation_id"), firstSeenAt: try cells.date("first_seen_at"),
            lastSeenAt: try cells.date("last_seen_at"), occurrences: try cells("occurrences"),
            resolvedAt: try cells.optionalDate("resolved_at")
        )
    }

    static func syncRun(_ cells: Cells) throws -> SyncRun {
        var counts = DirectoryChangeCounts()
        counts.usersAdded = try cells("users_added")
        counts.usersChanged = try cells("users_changed")
        counts.usersRemoved = try cells("users_removed")
        counts.groupsAdded = try cells("groups_added")
        counts.groupsChanged = try cells("groups_changed")
        counts.groupsRemoved = try cells("groups_removed")
        counts.membershipsAdded = try cells("memberships_added")
        counts.membershipsRemoved = try cells("memberships_removed")
        return SyncRun(
            id: try cells("id"), tenantID: try cells("tenant_id"), service: (try cells("service", as: String?.self)).flatMap(ServiceKind.init(rawValue:)),
            trigger: SyncTrigger(rawValue: try cells("trigger")) ?? .manual, mode: SyncMode(rawValue: try cells("mode")) ?? .full,
            state: SyncRunState(rawValue: try cells("state")) ?? .failed,
            startedAt: try cells.date("started_at"), finishedAt: try cells.optionalDate("finished_at"),
            pages: try cells("pages"), counts: counts, error: try cells("error"), note: try cells("note")
        )
    }

    static func alert(_ cells: Cells) throws -> Alert {
        Alert(
            id: try cells("id"), kind: try cells("kind"), severity: Alert.Severity(rawValue: try cells("severity")) ?? .warning,
            tenantID: try cells("tenant_id"), accountID: try cells("account_id"), grantID: try cells("grant_id"),
            incidentID: try cells("incident_id"), subject: try cells("subject"), body: try cells("body"),
            facts: AlertFacts(storedJSON: try cells("details_json")), createdAt: try cells.date("created_at"),
            acknowledgedAt: try cells.optionalDate("acknowledged_at")
        )
    }

    static func delivery(_ cells: Cells) throws -> AlertDelivery {
        AlertDelivery(
            alertID: try cells("alert_id"), channel: try cells("channel"), state: AlertDelivery.State(rawValue: try cells("state")) ?? .pending,
            attempts: try cells("attempts"), nextAttemptAt: try cells.date("next_attempt_at"), lastError: try cells("last_error"),
            deliveredAt: try cells.optionalDate("delivered_at")
        )
    }
}
