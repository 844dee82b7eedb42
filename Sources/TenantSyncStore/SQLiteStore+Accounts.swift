import Foundation
import GRDB
import TenantSyncCore

extension SQLiteStore: AccountStore {
    public func upsertTenant(id: String, domain: String, displayName: String?) async throws -> Tenant {
        let now = Timestamp.text(.now)
        let tenantID = id.lowercased()
        return try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO tenants (id, domain, display_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET domain = excluded.domain, display_name = excluded.display_name,
                        updated_at = excluded.updated_at
                    """,
                arguments: [tenantID, domain, displayName, now, now]
            )
            return try Self.fetchTenant(db, sql: "SELECT * FROM tenants WHERE id = ?", tenantID)!
        }
    }

    public func tenant(idOrDomain: String) async throws -> Tenant? {
        try await pool.read { db in
            try Self.fetchTenant(db, sql: "SELECT * FROM tenants WHERE id = lower(?) OR domain = ?", idOrDomain, idOrDomain)
        }
    }

    public func tenants() async throws -> [Tenant] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tenants ORDER BY domain").map(Self.tenant(from:))
        }
    }

    public func setSyncScope(tenantID: String, scope: SyncScope) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE tenants SET sync_scope = ?, updated_at = ? WHERE id = ?",
                arguments: [scope.rawValue, Timestamp.text(.now), tenantID]
            )
            guard db.changesCount == 1 else { throw TenantSyncError(.tenantNotFound, "No tenant \(tenantID).") }
        }
    }

    public func createAccount(tenantID: String, service: ServiceKind, appID: String?, licensingModel: LicensingModel?) async throws -> ServiceAccount {
        let now = Timestamp.text(.now)
        return try await pool.write { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM service_accounts WHERE tenant_id = ? AND service = ?", arguments: [tenantID, service.rawValue]) != nil {
                throw TenantSyncError(
                    .accountExists,
                    "The tenant already has \(service.displayNameWithArticle) service account; renew or deprovision it instead.",
                    context: ["tenant.id": tenantID, "account.service": service.rawValue]
                )
            }
            try db.execute(
                sql: """
                    INSERT INTO service_accounts (tenant_id, service, app_id, licensing_model, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [tenantID, service.rawValue, appID, licensingModel?.rawValue, now, now]
            )
            return try Self.fetchAccount(db, id: db.lastInsertedRowID)!
        }
    }

    public func account(id: Int64) async throws -> ServiceAccount? {
        try await pool.read { db in try Self.fetchAccount(db, id: id) }
    }

    public func account(tenantID: String, service: ServiceKind) async throws -> ServiceAccount? {
        try await pool.read { db in
            try Row.fetchOne(
                db, sql: "SELECT * FROM service_accounts WHERE tenant_id = ? AND service = ?",
                arguments: [tenantID, service.rawValue]
            ).map(Self.account(from:))
        }
    }

    public func accounts() async throws -> [ServiceAccount] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM service_accounts ORDER BY id").map(Self.account(from:))
        }
    }

    public func setAccountState(id: Int64, state: AccountState, provisioningStep: String?, provisioningError: String?) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE service_accounts SET state = ?, provisioning_step = ?, provisioning_error = ?, updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [state.rawValue, provisioningStep, provisioningError, Timestamp.text(.now), id]
            )
            try Self.requireChange(db, accountID: id)
        }
    }

    public func setAccountDetails(id: Int64, detailsJSON: String) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE service_accounts SET details_json = ?, updated_at = ? WHERE id = ?",
                arguments: [detailsJSON, Timestamp.text(.now), id]
            )
            try Self.requireChange(db, accountID: id)
        }
    }

    public func setInlineMailFlow(accountID: Int64, policy: String, direction: InlineDirection) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE service_accounts SET inline_policy = ?, inline_direction = ?, updated_at = ? WHERE id = ?",
                arguments: [policy, direction.rawValue, Timestamp.text(.now), accountID]
            )
            try Self.requireChange(db, accountID: accountID)
        }
    }

    public func setClientSecret(accountID: Int64, appID: String, secret: Secret, expiresAt: Date?) async throws {
        let sealed = try sealer.seal(secret, boundTo: Self.clientSecretPlace(accountID))
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE service_accounts SET app_id = ?, client_secret_sealed = ?, client_secret_expires_at = ?, updated_at = ?,
                        client_certificate_pem = NULL, client_key_sealed = NULL
                    WHERE id = ?
                    """,
                arguments: [appID, sealed, Timestamp.text(expiresAt), Timestamp.text(.now), accountID]
            )
            try Self.requireChange(db, accountID: accountID)
            try Self.recordAccountSecretExpiry(db, accountID: accountID, expiresAt: expiresAt, at: .now)
        }
    }

    public func setClientCertificate(
        accountID: Int64, appID: String, certificate: AccountCertificate, thumbprint: String, expiresAt: Date
    ) async throws {
        let sealed = try sealer.seal(certificate.privateKey, boundTo: Self.clientKeyPlace(accountID))
        try await pool.write { db in
            try Self.storeClientCertificate(
                db, accountID: accountID, appID: appID, certificatePEM: certificate.certificatePEM, keySealed: sealed,
                thumbprint: thumbprint, expiresAt: expiresAt, at: .now
            )
        }
    }

    public func clientCertificate(accountID: Int64) async throws -> AccountCertificate? {
        let stored: (pem: String, sealed: Data)? = try await pool.read { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT client_certificate_pem, client_key_sealed FROM service_accounts WHERE id = ?", arguments: [accountID]
            ), let pem = row["client_certificate_pem"] as String?, let sealed = row["client_key_sealed"] as Data?
            else { return nil }
            return (pem, sealed)
        }
        guard let (pem, sealed) = stored else { return nil }
        return AccountCertificate(certificatePEM: pem, privateKey: try sealer.open(sealed, boundTo: Self.clientKeyPlace(accountID)))
    }

    /// The certificate replaces any secret (an app has one credential here); its expiry, the certificate's notAfter,
    /// lives in `credential_expiries` (`client_secret_expires_at` is a secret's only, and is cleared).
    static func storeClientCertificate(
        _ db: Database, accountID: Int64, appID: String, certificatePEM: String, keySealed: Data, thumbprint: String, expiresAt: Date, at date: Date
    ) throws {
        try db.execute(
            sql: """
                UPDATE service_accounts SET app_id = ?, client_certificate_pem = ?, client_key_sealed = ?,
                    client_secret_sealed = NULL, client_secret_expires_at = NULL, updated_at = ?
                WHERE id = ?
                """,
            arguments: [appID, certificatePEM, keySealed, Timestamp.text(date), accountID]
        )
        try Self.requireChange(db, accountID: accountID)
        try db.execute(
            sql: """
                INSERT INTO credential_expiries (credential, account_id, kind, thumbprint, expires_at, alerted_days, updated_at)
                VALUES (?, ?, 'certificate', ?, ?, NULL, ?)
                ON CONFLICT (credential) DO UPDATE SET
                    alerted_days = CASE WHEN expires_at = excluded.expires_at AND kind = 'certificate' AND thumbprint IS excluded.thumbprint
                                        THEN alerted_days ELSE NULL END,
                    kind = 'certificate', thumbprint = excluded.thumbprint,
                    expires_at = excluded.expires_at, updated_at = excluded.updated_at
                """,
            arguments: [CredentialExpiry.account(accountID), accountID, thumbprint, Timestamp.text(expiresAt), Timestamp.text(date)]
        )
    }

    public func setLicensingModel(accountID: Int64, model: LicensingModel?) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE service_accounts SET licensing_model = ?, updated_at = ? WHERE id = ?",
                arguments: [model?.rawValue, Timestamp.text(.now), accountID]
            )
            try Self.requireChange(db, accountID: accountID)
        }
    }

    public func clientSecret(accountID: Int64) async throws -> Secret? {
        let sealed = try await pool.read { db in
            try Data.fetchOne(db, sql: "SELECT client_secret_sealed FROM service_accounts WHERE id = ?", arguments: [accountID])
        }
        return try sealed.map { try sealer.open($0, boundTo: Self.clientSecretPlace(accountID)) }
    }

    public func deleteAccount(id: Int64) async throws {
        try await pool.write { db in
            // secure_delete is on for every connection: the freed pages holding the
            // sealed tokens and secret are overwritten with zeros, not just unlinked.
            try db.execute(sql: "DELETE FROM token_sets WHERE grant_id IN (SELECT id FROM grants WHERE account_id = ?)", arguments: [id])
            try db.execute(sql: "DELETE FROM grants WHERE account_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM consent_sessions WHERE account_id = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM service_accounts WHERE id = ?", arguments: [id])
            guard db.changesCount == 1 else {
                throw TenantSyncError(.accountNotFound, "No service account \(id).", context: ["account.id": "\(id)"])
            }
        }
    }

    public func addGrant(accountID: Int64, name: String, resource: String, flow: GrantFlow) async throws -> Grant {
        let now = Timestamp.text(.now)
        return try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO grants (account_id, name, resource, flow, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(account_id, name) DO UPDATE SET resource = excluded.resource, flow = excluded.flow,
                        updated_at = excluded.updated_at
                    """,
                arguments: [accountID, name, resource, flow.rawValue, now, now]
            )
            return try Row.fetchOne(
                db, sql: "SELECT * FROM grants WHERE account_id = ? AND name = ?", arguments: [accountID, name]
            ).map(Self.grant(from:))!
        }
    }

    public func grant(id: Int64) async throws -> Grant? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM grants WHERE id = ?", arguments: [id]).map(Self.grant(from:))
        }
    }

    public func grants(accountID: Int64) async throws -> [Grant] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM grants WHERE account_id = ? ORDER BY id", arguments: [accountID]).map(Self.grant(from:))
        }
    }

    /// Inspection for tests and the benchmark: no service needs it, so it is not part of the store protocols.
    public func setGrantState(id: Int64, state: GrantState) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE grants SET state = ?, updated_at = ? WHERE id = ?",
                arguments: [state.rawValue, Timestamp.text(.now), id]
            )
        }
    }

    // MARK: Rows

    static func clientSecretPlace(_ accountID: Int64) -> String { "service_accounts:\(accountID):client_secret" }
    static func clientKeyPlace(_ accountID: Int64) -> String { "service_accounts:\(accountID):client_key" }

    static func requireChange(_ db: Database, accountID: Int64) throws {
        guard db.changesCount == 1 else {
            throw TenantSyncError(.accountNotFound, "No service account \(accountID).", context: ["account.id": "\(accountID)"])
        }
    }

    static func fetchTenant(_ db: Database, sql: String, _ arguments: (any DatabaseValueConvertible)...) throws -> Tenant? {
        try Row.fetchOne(db, sql: sql, arguments: StatementArguments(arguments)).map(tenant(from:))
    }

    static func fetchAccount(_ db: Database, id: Int64) throws -> ServiceAccount? {
        try Row.fetchOne(db, sql: "SELECT * FROM service_accounts WHERE id = ?", arguments: [id]).map(account(from:))
    }

    static func tenant(from row: Row) -> Tenant {
        Tenant(
            id: row["id"], domain: row["domain"], displayName: row["display_name"],
            syncScope: SyncScope(rawValue: row["sync_scope"]) ?? .all,
            createdAt: Timestamp.date(row["created_at"]) ?? .distantPast,
            updatedAt: Timestamp.date(row["updated_at"]) ?? .distantPast
        )
    }

    static func account(from row: Row) -> ServiceAccount {
        ServiceAccount(
            id: row["id"], tenantID: row["tenant_id"],
            service: ServiceKind(rawValue: row["service"])!,
            state: AccountState(rawValue: row["state"]) ?? .provisioning,
            provisioningStep: row["provisioning_step"], provisioningError: row["provisioning_error"],
            appID: row["app_id"],
            clientSecretExpiresAt: Timestamp.date(row["client_secret_expires_at"]),
            licensingModel: (row["licensing_model"] as String?).flatMap(LicensingModel.init(rawValue:)),
            detailsJSON: row["details_json"],
            inlinePolicy: row["inline_policy"],
            inlineDirection: (row["inline_direction"] as String?).flatMap(InlineDirection.init(rawValue:)),
            createdAt: Timestamp.date(row["created_at"]) ?? .distantPast,
            updatedAt: Timestamp.date(row["updated_at"]) ?? .distantPast
        )
    }

    static func grant(from row: Row) -> Grant {
        Grant(
            id: row["id"], accountID: row["account_id"], name: row["name"], resource: row["resource"],
            flow: GrantFlow(rawValue: row["flow"]) ?? .delegated,
            state: GrantState(rawValue: row["state"]) ?? .pending,
            createdAt: Timestamp.date(row["created_at"]) ?? .distantPast,
            updatedAt: Timestamp.date(row["updated_at"]) ?? .distantPast
        )
    }
}
