import Foundation
import Logging
import PostgresNIO
import TenantSyncCore

extension PostgreSQLStore: TokenLifecycleStore {
    public func tokenSnapshot(grantID: Int64) async throws -> TokenSnapshot? {
        // One transaction, REPEATABLE READ: the grant and its token set from the same snapshot.
        let read = try await transaction { connection -> (Grant, TokenRow?)? in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: logger)
            guard let grant = try await Self.fetchGrant(connection, id: grantID, logger: logger) else { return nil }
            return (grant, try await Self.fetchTokenRow(connection, grantID: grantID, logger: logger))
        }
        guard let (grant, row) = read else { return nil }
        guard let row else { return TokenSnapshot(grant: grant, tokens: nil, generation: 0, consecutiveFailures: 0, nextRefreshAt: nil) }
        return TokenSnapshot(
            grant: grant, tokens: try openTokens(grantID: grantID, row), generation: row.generation,
            consecutiveFailures: row.consecutiveFailures, nextRefreshAt: row.nextRefreshAt
        )
    }

    public func storeRefreshedTokenSet(grantID: Int64, tokens: TokenSet, nextRefreshAt: Date, expectedGeneration: Int, at date: Date) async throws -> Bool {
        let (accessSealed, refreshSealed) = try sealTokens(grantID: grantID, tokens)
        return try await durableTransaction { connection in
            try await Self.writeRefreshedTokenSet(
                connection, grantID: grantID, accessSealed: accessSealed, refreshSealed: refreshSealed, tokens: tokens,
                nextRefreshAt: nextRefreshAt, expectedGeneration: expectedGeneration, at: date, logger: logger
            )
        }
    }

    /// The write of ``storeRefreshedTokenSet(grantID:tokens:nextRefreshAt:expectedGeneration:at:)`` inside the caller's
    /// transaction (the fenced variant checks its lease first, in the same transaction).
    static func writeRefreshedTokenSet(
        _ connection: PostgresConnection, grantID: Int64, accessSealed: Data, refreshSealed: Data?, tokens: TokenSet,
        nextRefreshAt: Date, expectedGeneration: Int, at date: Date, logger: Logger
    ) async throws -> Bool {
        // The grant's row is locked first (FOR UPDATE), as every step that changes its state does, so a renewal or
        // an invalidation racing this refresh either commits before (and the check fails) or waits for it.
        let changed = try await Self.count(connection.query(
            """
            WITH valid AS (SELECT id FROM grants WHERE id = \(grantID) AND state = 'valid' FOR UPDATE)
            UPDATE token_sets SET access_token_sealed = \(accessSealed), refresh_token_sealed = \(refreshSealed),
                scopes = \(tokens.scopes.joined(separator: " ")), obtained_at = \(StoredDate.bound(tokens.obtainedAt)),
                expires_at = \(StoredDate.bound(tokens.expiresAt)), refresh_in_at = \(StoredDate.bound(tokens.refreshInAt)),
                next_refresh_at = \(StoredDate.bound(nextRefreshAt)), last_refresh_at = \(StoredDate.bound(date)),
                last_refresh_outcome = 'ok', consecutive_failures = 0, generation = generation + 1
            WHERE grant_id = (SELECT id FROM valid) AND generation = \(expectedGeneration)
            RETURNING 1
            """,
            logger: logger
        ))
        guard changed == 1 else { return false }
        try await connection.query(
            """
            UPDATE incidents SET resolved_at = \(StoredDate.bound(date))
            WHERE grant_id = \(grantID) AND kind = \(Incident.Kind.tokenRefreshFailing.rawValue) AND resolved_at IS NULL
            """,
            logger: logger
        )
        return true
    }

    public func recordTransientFailure(
        grantID: Int64, outcome: String, at date: Date, nextRefreshAt: Date,
        incident report: IncidentReport?, alert: @Sendable (Incident) -> NewAlert, channels: [String]
    ) async throws -> TokenIncidentOutcome {
        let outcome = try await transaction { connection in
            try await Self.writeTransientFailure(
                connection, grantID: grantID, outcome: outcome, at: date, nextRefreshAt: nextRefreshAt, incident: report, alert: alert,
                channels: channels, logger: logger
            )
        }
        if outcome.alert != nil { outboxChanged() }
        return outcome
    }

    public func invalidateGrant(
        grantID: Int64, outcome: String, report: IncidentReport,
        alert: @Sendable (Incident) -> NewAlert, channels: [String]
    ) async throws -> TokenIncidentOutcome {
        let result = try await transaction { connection in
            try await Self.writeInvalidation(connection, grantID: grantID, outcome: outcome, report: report, alert: alert, channels: channels, logger: logger)
        }
        if result.alert != nil { outboxChanged() }
        return result
    }

    /// The statements of ``recordTransientFailure(grantID:outcome:at:nextRefreshAt:incident:alert:channels:)`` inside the
    /// caller's transaction (the fenced variant checks its lease first, in the same transaction).
    static func writeTransientFailure(
        _ connection: PostgresConnection, grantID: Int64, outcome: String, at date: Date, nextRefreshAt: Date,
        incident report: IncidentReport?, alert: @Sendable (Incident) -> NewAlert, channels: [String], logger: Logger
    ) async throws -> TokenIncidentOutcome {
        try await recordFailure(connection, grantID: grantID, outcome: outcome, at: date, nextRefreshAt: nextRefreshAt, logger: logger)
        guard let report else { return TokenIncidentOutcome(incident: nil, isNew: false, alert: nil) }
        return try await openIncident(connection, report, alert: alert, channels: channels, logger: logger)
    }

    /// The statements of ``invalidateGrant(grantID:outcome:report:alert:channels:)`` inside the caller's transaction.
    static func writeInvalidation(
        _ connection: PostgresConnection, grantID: Int64, outcome: String, report: IncidentReport,
        alert: @Sendable (Incident) -> NewAlert, channels: [String], logger: Logger
    ) async throws -> TokenIncidentOutcome {
        let now = StoredDate.bound(report.seenAt)
        let changed = try await count(connection.query(
            "UPDATE grants SET state = 'invalid', updated_at = \(now) WHERE id = \(grantID) RETURNING 1", logger: logger
        ))
        guard changed == 1 else {
            throw TenantSyncError(.grantNotFound, "No grant \(grantID).", context: ["grant.id": "\(grantID)"])
        }
        try await recordFailure(connection, grantID: grantID, outcome: outcome, at: report.seenAt, nextRefreshAt: report.seenAt, logger: logger)
        try await connection.query(
            "UPDATE service_accounts SET state = 'token-invalid', updated_at = \(now) WHERE id = \(report.accountID)", logger: logger
        )
        // The refresh-failing warning is superseded by the token-invalid incident.
        try await connection.query(
            """
            UPDATE incidents SET resolved_at = \(now)
            WHERE grant_id = \(grantID) AND kind = \(Incident.Kind.tokenRefreshFailing.rawValue) AND resolved_at IS NULL
            """,
            logger: logger
        )
        return try await openIncident(connection, report, alert: alert, channels: channels, logger: logger)
    }

    public func applyRenewal(
        _ renewal: TokenRenewalRecord, alert: @Sendable (ServiceAccount, [Incident]) -> NewAlert, channels: [String]
    ) async throws -> TokenRenewalOutcome {
        let grantID = renewal.grantID
        let (accessSealed, refreshSealed) = try sealTokens(grantID: grantID, renewal.tokens)
        // The account id binds the sealed secret to its row; read it first, then check it did not change.
        guard let existing = try await grant(id: grantID) else {
            throw TenantSyncError(.grantNotFound, "No grant \(grantID) to renew.", context: ["grant.id": "\(grantID)"])
        }
        let accountID = existing.accountID
        let secretSealed = try renewal.clientSecret?.secret.map { try sealer.seal($0, boundTo: Self.clientSecretPlace(accountID)) }
        let keySealed = try renewal.clientSecret?.certificate.map { try sealer.seal($0.privateKey, boundTo: Self.clientKeyPlace(accountID)) }
        let outcome = try await durableTransaction { connection in
            let now = StoredDate.bound(renewal.at)
            let locked = try await PostgreSQLRows.first(
                connection.query("SELECT account_id FROM grants WHERE id = \(grantID) FOR UPDATE", logger: logger)
            ) { try $0("account_id", as: Int64.self) }
            guard locked == accountID else {
                throw TenantSyncError(.grantNotFound, "No grant \(grantID) to renew.", context: ["grant.id": "\(grantID)"])
            }
            try await Self.upsertTokenSet(
                connection, grantID: grantID, accessSealed: accessSealed, refreshSealed: refreshSealed, tokens: renewal.tokens,
                nextRefreshAt: renewal.nextRefreshAt, lastRefreshAt: renewal.at, outcome: "renewed", logger: logger
            )
            try await connection.query("UPDATE grants SET state = 'valid', updated_at = \(now) WHERE id = \(grantID)", logger: logger)
            if let update = renewal.clientSecret, let secretSealed {
                try await Self.storeClientSecret(
                    connection, accountID: accountID, appID: update.appID, sealed: secretSealed, expiresAt: update.expiresAt, at: renewal.at, logger: logger
                )
            } else if let update = renewal.clientSecret, let certificate = update.certificate, let keySealed,
                      let thumbprint = update.thumbprint, let expiresAt = update.expiresAt {
                try await Self.storeClientCertificate(
                    connection, accountID: accountID, appID: update.appID, certificatePEM: certificate.certificatePEM, keySealed: keySealed,
                    thumbprint: thumbprint, expiresAt: expiresAt, at: renewal.at, logger: logger
                )
            }
            let resolved = try await PostgreSQLRows.all(
                connection.query(
                    """
                    UPDATE incidents SET resolved_at = \(now) WHERE grant_id = \(grantID) AND resolved_at IS NULL
                    RETURNING \(unescaped: PostgreSQLRows.incidentColumns.joined(separator: ", "))
                    """,
                    logger: logger
                ),
                PostgreSQLRows.incident
            ).map { incident -> Incident in
                // As they were before this renewal closed them (the SQLite store reads them before resolving).
                var open = incident
                open.resolvedAt = nil
                return open
            }.sorted { $0.id < $1.id }
            // Only a token-invalid account comes back to active here: one still provisioning has steps left that a
            // renewed token does not complete.
            try await connection.query(
                """
                UPDATE service_accounts SET state = 'active', updated_at = \(now)
                WHERE id = \(accountID) AND state = 'token-invalid'
                    AND NOT EXISTS (SELECT 1 FROM grants WHERE account_id = \(accountID) AND state != 'valid')
                """,
                logger: logger
            )
            guard let account = try await Self.fetchAccount(connection, id: accountID, logger: logger),
                  let renewed = try await Self.fetchGrant(connection, id: grantID, logger: logger)
            else {
                throw TenantSyncError(.accountNotFound, "The grant's account vanished during renewal.", context: ["grant.id": "\(grantID)"])
            }
            let stored = try await Self.insertAlert(connection, alert(account, resolved), channels: channels, at: renewal.at, logger: logger)
            return TokenRenewalOutcome(account: account, grant: renewed, resolvedIncidents: resolved, alert: stored)
        }
        outboxChanged()
        return outcome
    }

    // MARK: Helpers

    static func recordFailure(
        _ connection: PostgresConnection, grantID: Int64, outcome: String, at date: Date, nextRefreshAt: Date, logger: Logger
    ) async throws {
        try await connection.query(
            """
            UPDATE token_sets SET last_refresh_at = \(StoredDate.bound(date)), last_refresh_outcome = \(outcome),
                next_refresh_at = \(StoredDate.bound(nextRefreshAt)), consecutive_failures = consecutive_failures + 1
            WHERE grant_id = \(grantID)
            """,
            logger: logger
        )
    }

    /// Opens the incident or records another occurrence; a new one gets its alert in the same transaction.
    static func openIncident(
        _ connection: PostgresConnection, _ report: IncidentReport, alert: (Incident) -> NewAlert, channels: [String], logger: Logger
    ) async throws -> TokenIncidentOutcome {
        let (incident, isNew) = try await openOrRepeatIncident(connection, report, logger: logger)
        guard isNew else { return TokenIncidentOutcome(incident: incident, isNew: false, alert: nil) }
        var newAlert = alert(incident)
        newAlert.incidentID = incident.id
        let stored = try await insertAlert(connection, newAlert, channels: channels, at: report.seenAt, logger: logger)
        return TokenIncidentOutcome(incident: incident, isNew: true, alert: stored)
    }
}
