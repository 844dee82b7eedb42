import Foundation
import GRDB
import TenantSyncCore

extension SQLiteStore: TokenLifecycleStore {
    public func tokenSnapshot(grantID: Int64) async throws -> TokenSnapshot? {
        // Decoded inside the read: a `Row` is not Sendable, and returning one would select GRDB's blocking read.
        try await pool.read { db -> TokenSnapshot? in
            guard let grant = try Row.fetchOne(db, sql: "SELECT * FROM grants WHERE id = ?", arguments: [grantID]).map(Self.grant(from:)) else {
                return nil
            }
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM token_sets WHERE grant_id = ?", arguments: [grantID]) else {
                return TokenSnapshot(grant: grant, tokens: nil, generation: 0, consecutiveFailures: 0, nextRefreshAt: nil)
            }
            return TokenSnapshot(
                grant: grant, tokens: try tokenSet(grantID: grantID, row: row),
                generation: row["generation"], consecutiveFailures: row["consecutive_failures"],
                nextRefreshAt: Timestamp.date(row["next_refresh_at"])
            )
        }
    }

    public func storeRefreshedTokenSet(grantID: Int64, tokens: TokenSet, nextRefreshAt: Date, expectedGeneration: Int, at date: Date) async throws -> Bool {
        let (accessSealed, refreshSealed) = try sealTokens(grantID: grantID, tokens)
        return try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE token_sets SET access_token_sealed = ?, refresh_token_sealed = ?, scopes = ?, obtained_at = ?,
                        expires_at = ?, refresh_in_at = ?, next_refresh_at = ?, last_refresh_at = ?,
                        last_refresh_outcome = 'ok', consecutive_failures = 0, generation = generation + 1
                    WHERE grant_id = ? AND generation = ?
                        AND (SELECT state FROM grants WHERE id = ?) = 'valid'
                    """,
                arguments: [
                    accessSealed, refreshSealed, tokens.scopes.joined(separator: " "), Timestamp.text(tokens.obtainedAt),
                    Timestamp.text(tokens.expiresAt), Timestamp.text(tokens.refreshInAt), Timestamp.text(nextRefreshAt),
                    Timestamp.text(date), grantID, expectedGeneration, grantID,
                ]
            )
            guard db.changesCount == 1 else { return false }
            try db.execute(
                sql: "UPDATE incidents SET resolved_at = ? WHERE grant_id = ? AND kind = ? AND resolved_at IS NULL",
                arguments: [Timestamp.text(date), grantID, Incident.Kind.tokenRefreshFailing.rawValue]
            )
            return true
        }
    }

    public func recordTransientFailure(
        grantID: Int64, outcome: String, at date: Date, nextRefreshAt: Date,
        incident report: IncidentReport?, alert: @Sendable (Incident) -> NewAlert, channels: [String]
    ) async throws -> TokenIncidentOutcome {
        try await pool.write { db in
            try Self.recordFailure(db, grantID: grantID, outcome: outcome, at: date, nextRefreshAt: nextRefreshAt)
            guard let report else { return TokenIncidentOutcome(incident: nil, isNew: false, alert: nil) }
            return try Self.openIncident(db, report, alert: alert, channels: channels)
        }
    }

    public func invalidateGrant(
        grantID: Int64, outcome: String, report: IncidentReport,
        alert: @Sendable (Incident) -> NewAlert, channels: [String]
    ) async throws -> TokenIncidentOutcome {
        try await pool.write { db in
            let now = Timestamp.text(report.seenAt)
            try Self.recordFailure(db, grantID: grantID, outcome: outcome, at: report.seenAt, nextRefreshAt: report.seenAt)
            try db.execute(sql: "UPDATE grants SET state = 'invalid', updated_at = ? WHERE id = ?", arguments: [now, grantID])
            guard db.changesCount == 1 else {
                throw TenantSyncError(.grantNotFound, "No grant \(grantID).", context: ["grant.id": "\(grantID)"])
            }
            try db.execute(
                sql: "UPDATE service_accounts SET state = 'token-invalid', updated_at = ? WHERE id = ?",
                arguments: [now, report.accountID]
            )
            // The refresh-failing warning is superseded by the token-invalid incident.
            try db.execute(
                sql: "UPDATE incidents SET resolved_at = ? WHERE grant_id = ? AND kind = ? AND resolved_at IS NULL",
                arguments: [now, grantID, Incident.Kind.tokenRefreshFailing.rawValue]
            )
            return try Self.openIncident(db, report, alert: alert, channels: channels)
        }
    }

    public func applyRenewal(
        _ renewal: TokenRenewalRecord, alert: @Sendable (ServiceAccount, [Incident]) -> NewAlert, channels: [String]
    ) async throws -> TokenRenewalOutcome {
        let grantID = renewal.grantID
        let (accessSealed, refreshSealed) = try sealTokens(grantID: grantID, renewal.tokens)
        let now = Timestamp.text(renewal.at)
        // The account id is needed to bind the sealed secret to its row; read it first.
        guard let existing = try await grant(id: grantID) else {
            throw TenantSyncError(.grantNotFound, "No grant \(grantID) to renew.", context: ["grant.id": "\(grantID)"])
        }
        let secretSealed = try renewal.clientSecret?.secret.map { try sealer.seal($0, boundTo: Self.clientSecretPlace(existing.accountID)) }
        let keySealed = try renewal.clientSecret?.certificate.map {
            try sealer.seal($0.privateKey, boundTo: Self.clientKeyPlace(existing.accountID))
        }
        return try await pool.write { db in
            guard let grant = try Row.fetchOne(db, sql: "SELECT * FROM grants WHERE id = ?", arguments: [grantID]).map(Self.grant(from:)),
                  grant.accountID == existing.accountID
            else {
                throw TenantSyncError(.grantNotFound, "No grant \(grantID) to renew.", context: ["grant.id": "\(grantID)"])
            }
            let tokens = renewal.tokens
            try Self.upsertTokenSet(
                db, grantID: grantID, accessSealed: accessSealed, refreshSealed: refreshSealed, tokens: tokens,
                nextRefreshAt: renewal.nextRefreshAt, lastRefreshAt: renewal.at, outcome: "renewed"
            )
            try db.execute(sql: "UPDATE grants SET state = 'valid', updated_at = ? WHERE id = ?", arguments: [now, grantID])
            if let update = renewal.clientSecret, let secretSealed {
                try db.execute(
                    sql: """
                        UPDATE service_accounts SET app_id = ?, client_secret_sealed = ?, client_secret_expires_at = ?,
                            client_certificate_pem = NULL, client_key_sealed = NULL, updated_at = ? WHERE id = ?
                        """,
                    arguments: [update.appID, secretSealed, Timestamp.text(update.expiresAt), now, grant.accountID]
                )
                try Self.recordAccountSecretExpiry(db, accountID: grant.accountID, expiresAt: update.expiresAt, at: renewal.at)
            } else if let update = renewal.clientSecret, let certificate = update.certificate, let keySealed,
                      let thumbprint = update.thumbprint, let expiresAt = update.expiresAt {
                try Self.storeClientCertificate(
                    db, accountID: grant.accountID, appID: update.appID, certificatePEM: certificate.certificatePEM, keySealed: keySealed,
                    thumbprint: thumbprint, expiresAt: expiresAt, at: renewal.at
                )
            }
            let resolved = try Row.fetchAll(
                db, sql: "SELECT * FROM incidents WHERE grant_id = ? AND resolved_at IS NULL ORDER BY id", arguments: [grantID]
            ).map(Self.incident(from:))
            try db.execute(
                sql: "UPDATE incidents SET resolved_at = ? WHERE grant_id = ? AND resolved_at IS NULL",
                arguments: [now, grantID]
            )
            let invalidLeft = try Int.fetchOne(
                db, sql: "SELECT count(*) FROM grants WHERE account_id = ? AND state != 'valid'", arguments: [grant.accountID]
            ) ?? 0
            if invalidLeft == 0 {
                // Only a token-invalid account comes back to active here: one still provisioning
                // has steps left that a renewed token does not complete.
                try db.execute(
                    sql: "UPDATE service_accounts SET state = 'active', updated_at = ? WHERE id = ? AND state = 'token-invalid'",
                    arguments: [now, grant.accountID]
                )
            }
            guard let account = try Self.fetchAccount(db, id: grant.accountID),
                  let renewedGrant = try Row.fetchOne(db, sql: "SELECT * FROM grants WHERE id = ?", arguments: [grantID]).map(Self.grant(from:))
            else {
                throw TenantSyncError(.accountNotFound, "The grant's account vanished during renewal.", context: ["grant.id": "\(grantID)"])
            }
            let stored = try Self.insertAlert(db, alert(account, resolved), channels: channels, at: renewal.at)
            return TokenRenewalOutcome(account: account, grant: renewedGrant, resolvedIncidents: resolved, alert: stored)
        }
    }

    // MARK: Helpers

    private func sealTokens(grantID: Int64, _ tokens: TokenSet) throws -> (Data, Data?) {
        let access = try sealer.seal(tokens.accessToken, boundTo: Self.tokenPlace(grantID, "access"))
        let refresh = try tokens.refreshToken.map { try sealer.seal($0, boundTo: Self.tokenPlace(grantID, "refresh")) }
        return (access, refresh)
    }

    func tokenSet(grantID: Int64, row: Row) throws -> TokenSet {
        let accessSealed: Data = row["access_token_sealed"]
        let refreshSealed: Data? = row["refresh_token_sealed"]
        return TokenSet(
            accessToken: try sealer.open(accessSealed, boundTo: Self.tokenPlace(grantID, "access")),
            refreshToken: try refreshSealed.map { try sealer.open($0, boundTo: Self.tokenPlace(grantID, "refresh")) },
            scopes: Self.scopes(row["scopes"]),
            obtainedAt: Timestamp.date(row["obtained_at"]) ?? .distantPast,
            expiresAt: Timestamp.date(row["expires_at"]) ?? .distantPast,
            refreshInAt: Timestamp.date(row["refresh_in_at"])
        )
    }

    private static func recordFailure(_ db: Database, grantID: Int64, outcome: String, at date: Date, nextRefreshAt: Date) throws {
        try db.execute(
            sql: """
                UPDATE token_sets SET last_refresh_at = ?, last_refresh_outcome = ?, next_refresh_at = ?,
                    consecutive_failures = consecutive_failures + 1
                WHERE grant_id = ?
                """,
            arguments: [Timestamp.text(date), outcome, Timestamp.text(nextRefreshAt), grantID]
        )
    }

    /// Opens the incident or records another occurrence; a new one gets its alert in the same transaction.
    private static func openIncident(
        _ db: Database, _ report: IncidentReport, alert: (Incident) -> NewAlert, channels: [String]
    ) throws -> TokenIncidentOutcome {
        let seen = Timestamp.text(report.seenAt)
        if let openID = try Int64.fetchOne(
            db, sql: "SELECT id FROM incidents WHERE grant_id = ? AND kind = ? AND resolved_at IS NULL",
            arguments: [report.grantID, report.kind.rawValue]
        ) {
            try db.execute(
                sql: """
                    UPDATE incidents SET last_seen_at = ?, occurrences = occurrences + 1,
                        error = coalesce(?, error), aadsts_code = coalesce(?, aadsts_code),
                        trace_id = coalesce(?, trace_id), correlation_id = coalesce(?, correlation_id)
                    WHERE id = ?
                    """,
                arguments: [seen, report.error, report.aadstsCode, report.traceID, report.correlationID, openID]
            )
            return TokenIncidentOutcome(incident: try fetchIncident(db, id: openID), isNew: false, alert: nil)
        }
        try db.execute(
            sql: """
                INSERT INTO incidents (grant_id, account_id, kind, error, aadsts_code, trace_id, correlation_id,
                    first_seen_at, last_seen_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                report.grantID, report.accountID, report.kind.rawValue, report.error, report.aadstsCode,
                report.traceID, report.correlationID, seen, seen,
            ]
        )
        guard let incident = try fetchIncident(db, id: db.lastInsertedRowID) else {
            throw TenantSyncError(.storeUnavailable, "An incident vanished right after it was stored.")
        }
        var newAlert = alert(incident)
        newAlert.incidentID = incident.id
        return TokenIncidentOutcome(incident: incident, isNew: true, alert: try insertAlert(db, newAlert, channels: channels, at: report.seenAt))
    }

    /// The same rows as `enqueueAlert`, inside a caller's transaction.
    static func insertAlert(_ db: Database, _ alert: NewAlert, channels: [String], at date: Date) throws -> Alert {
        let now = Timestamp.text(date)
        try db.execute(
            sql: """
                INSERT INTO alerts (kind, severity, tenant_id, account_id, grant_id, incident_id, subject, body,
                    details_json, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                alert.kind, alert.severity.rawValue, alert.tenantID, alert.accountID, alert.grantID, alert.incidentID,
                alert.subject, alert.body, alert.facts.storedJSON, now,
            ]
        )
        let id = db.lastInsertedRowID
        for channel in channels {
            try db.execute(
                sql: "INSERT INTO alert_deliveries (alert_id, channel, next_attempt_at) VALUES (?, ?, ?)",
                arguments: [id, channel, now]
            )
        }
        guard let stored = try fetchAlert(db, id: id) else {
            throw TenantSyncError(.storeUnavailable, "An alert vanished right after it was stored.")
        }
        return stored
    }
}
