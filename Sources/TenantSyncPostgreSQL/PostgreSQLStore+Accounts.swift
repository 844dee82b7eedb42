import Credentials
import Foundation
import PostgresNIO
import TenantSyncCore

extension PostgreSQLStore: AccountStore {
    public func upsertTenant(id: String, domain: String, displayName: String?) async throws -> Tenant {
        let now = StoredDate.bound(.now)
        let tenantID = id.lowercased()
        return try await transaction { connection in
            let rows = try await connection.query(
                """
                INSERT INTO tenants (id, domain, display_name, created_at, updated_at) VALUES (\(tenantID), \(domain), \(displayName), \(now), \(now))
                ON CONFLICT (id) DO UPDATE SET domain = excluded.domain, display_name = excluded.display_name, updated_at = excluded.updated_at
                RETURNING \(unescaped: PostgreSQLRows.tenantColumns.joined(separator: ", "))
                """,
                logger: logger
            )
            guard let tenant = try await PostgreSQLRows.first(rows, PostgreSQLRows.tenant) else {
                throw TenantSyncError(.storeUnavailable, "A tenant vanished right after it was stored.")
            }
            return tenant
        }
    }

    public func tenant(idOrDomain: String) async throws -> Tenant? {
        try await read { connection in
            try await PostgreSQLRows.first(
                connection.query(
                    """
                    SELECT \(unescaped: PostgreSQLRows.tenantColumns.joined(separator: ", ")) FROM tenants
                    WHERE id = lower(\(idOrDomain)) OR lower(domain) = lower(\(idOrDomain))
                    """,
                    logger: logger
                ),
                PostgreSQLRows.tenant
            )
        }
    }

    public func tenants() async throws -> [Tenant] {
        try await read { connection in
            try await PostgreSQLRows.all(
                connection.query("SELECT \(unescaped: PostgreSQLRows.tenantColumns.joined(separator: ", ")) FROM tenants ORDER BY domain", logger: logger),
                PostgreSQLRows.tenant
            )
        }
    }

    public func setSyncScope(tenantID: String, scope: SyncScope) async throws {
        let changed = try await changedRows(
            "UPDATE tenants SET sync_scope = \(scope.rawValue), updated_at = \(StoredDate.bound(.now)) WHERE id = \(tenantID) RETURNING 1"
        )
        guard changed == 1 else { throw TenantSyncError(.tenantNotFound, "No tenant \(tenantID).") }
    }

    public func createAccount(tenantID: String, service: ServiceKind, appID: String?, licensingModel: LicensingModel?) async throws -> ServiceAccount {
        let now = StoredDate.bound(.now)
        let exists = TenantSyncError(
            .accountExists,
            "The tenant already has \(service.displayNameWithArticle) service account; renew or deprovision it instead.",
            context: ["tenant.id": tenantID, "account.service": service.rawValue]
        )
        do {
            return try await transaction { connection in
                let rows = try await connection.query(
                    """
                    INSERT INTO service_accounts (tenant_id, service, app_id, licensing_model, created_at, updated_at)
                    VALUES (\(tenantID), \(service.rawValue), \(appID), \(licensingModel?.rawValue), \(now), \(now))
                    ON CONFLICT (tenant_id, service) DO NOTHING
                    RETURNING \(unescaped: PostgreSQLRows.accountColumns.joined(separator: ", "))
                    """,
                    logger: logger
                )
                guard let account = try await PostgreSQLRows.first(rows, PostgreSQLRows.account) else { throw exists }
                return account
            }
        } catch where PostgreSQLErrorText.sqlState(error) == "23503" {
            throw TenantSyncError(.tenantNotFound, "No tenant \(tenantID).", context: ["tenant.id": tenantID])
        }
    }

    public func account(id: Int64) async throws -> ServiceAccount? {
        try await read { connection in try await Self.fetchAccount(connection, id: id, logger: logger) }
    }

    public func account(tenantID: String, service: ServiceKind) async throws -> ServiceAccount? {
        try await read { connection in
            try await PostgreSQLRows.first(
                connection.query(
                    """
                    SELECT \(unescaped: PostgreSQLRows.accountColumns.joined(separator: ", ")) FROM service_accounts
                    WHERE tenant_id = \(tenantID) AND service = \(service.rawValue)
                    """,
                    logger: logger
                ),
                PostgreSQLRows.account
            )
        }
    }

    public func accounts() async throws -> [ServiceAccount] {
        try await read { connection in
            try await PostgreSQLRows.all(
                connection.query(
                    "SELECT \(unescaped: PostgreSQLRows.accountColumns.joined(separator: ", ")) FROM service_accounts ORDER BY id", logger: logger
                ),
                PostgreSQLRows.account
            )
        }
    }

    public func setAccountState(id: Int64, state: AccountState, provisioningStep: String?, provisioningError: String?) async throws {
        try requireAccount(id, changed: await changedRows(
            """
            UPDATE service_accounts SET state = \(state.rawValue), provisioning_step = \(provisioningStep),
                provisioning_error = \(provisioningError), updated_at = \(StoredDate.bound(.now))
            WHERE id = \(id) RETURNING 1
            """
        ))
    }

    public func setAccountDetails(id: Int64, detailsJSON: String) async throws {
        try requireAccount(id, changed: await changedRows(
            "UPDATE service_accounts SET details_json = \(detailsJSON), updated_at = \(StoredDate.bound(.now)) WHERE id = \(id) RETURNING 1"
        ))
    }

    public func setInlineMailFlow(accountID: Int64, policy: String, direction: InlineDirection) async throws {
        try requireAccount(accountID, changed: await changedRows(
            """
            UPDATE service_accounts SET inline_policy = \(policy), inline_direction = \(direction.rawValue), updated_at = \(StoredDate.bound(.now))
            WHERE id = \(accountID) RETURNING 1
            """
        ))
    }

    public func setClientSecret(accountID: Int64, appID: String, secret: Secret, expiresAt: Date?) async throws {
        let sealed = try sealer.seal(secret, boundTo: Self.clientSecretPlace(accountID))
        let now = Date.now
        try await transaction { connection in
            try await Self.storeClientSecret(connection, accountID: accountID, appID: appID, sealed: sealed, expiresAt: expiresAt, at: now, logger: logger)
        }
    }

    public func clientSecret(accountID: Int64) async throws -> Secret? {
        let sealed = try await read { connection in
            try await PostgreSQLRows.first(
                connection.query("SELECT client_secret_sealed FROM service_accounts WHERE id = \(accountID)", logger: logger)
            ) { try $0("client_secret_sealed", as: Data?.self) }
        }
        return try sealed?.map { try sealer.open($0, boundTo: Self.clientSecretPlace(accountID)) }
    }

    public func setClientCertificate(
        accountID: Int64, appID: String, certificate: AccountCertificate, thumbprint: String, expiresAt: Date
    ) async throws {
        let sealed = try sealer.seal(certificate.privateKey, boundTo: Self.clientKeyPlace(accountID))
        let now = Date.now
        try await transaction { connection in
            try await Self.storeClientCertificate(
                connection, accountID: accountID, appID: appID, certificatePEM: certificate.certificatePEM, keySealed: sealed,
                thumbprint: thumbprint, expiresAt: expiresAt, at: now, logger: logger
            )
        }
    }

    public func clientCertificate(accountID: Int64) async throws -> AccountCertificate? {
        let stored: (String, Data)?? = try await read { connection in
            try await PostgreSQLRows.first(
                connection.query("SELECT client_certificate_pem, client_key_sealed FROM service_accounts WHERE id = \(accountID)", logger: logger)
            ) { cells -> (String, Data)? in
                guard let pem = try cells("client_certificate_pem", as: String?.self), let sealed = try cells("client_key_sealed", as: Data?.self) else {
                    return nil
                }
                return (pem, sealed)
            }
        }
        guard let (pem, sealed) = stored ?? nil else { return nil }
        return AccountCertificate(certificatePEM: pem, privateKey: try sealer.open(sealed, boundTo: Self.clientKeyPlace(accountID)))
    }

    public func setLicensingModel(accountID: Int64, model: LicensingModel?) async throws {
        try requireAccount(accountID, changed: await changedRows(
            "UPDATE service_accounts SET licensing_model = \(model?.rawValue), updated_at = \(StoredDate.bound(.now)) WHERE id = \(accountID) RETURNING 1"
        ))
    }

    public func deleteAccount(id: Int64) async throws {
        // The account's grants and token sets go with it (ON DELETE CASCADE), in the same transaction.
        try requireAccount(id, changed: await changedRows("DELETE FROM service_accounts WHERE id = \(id) RETURNING 1"))
    }

    public func addGrant(accountID: Int64, name: String, resource: String, flow: GrantFlow) async throws -> Grant {
        let now = StoredDate.bound(.now)
        return try await transaction { connection in
            let rows = try await connection.query(
                """
                INSERT INTO grants (account_id, name, resource, flow, created_at, updated_at)
                VALUES (\(accountID), \(name), \(resource), \(flow.rawValue), \(now), \(now))
                ON CONFLICT (account_id, name) DO UPDATE SET resource = excluded.resource, flow = excluded.flow, updated_at = excluded.updated_at
                RETURNING \(unescaped: PostgreSQLRows.grantColumns.joined(separator: ", "))
                """,
                logger: logger
            )
            guard let grant = try await PostgreSQLRows.first(rows, PostgreSQLRows.grant) else {
                throw TenantSyncError(.storeUnavailable, "A grant vanished right after it was stored.")
            }
            return grant
        }
    }

    public func grant(id: Int64) async throws -> Grant? {
        try await read { connection in try await Self.fetchGrant(connection, id: id, logger: logger) }
    }

    public func grants(accountID: Int64) async throws -> [Grant] {
        try await read { connection in
            try await PostgreSQLRows.all(
                connection.query(
                    "SELECT \(unescaped: PostgreSQLRows.grantColumns.joined(separator: ", ")) FROM grants WHERE account_id = \(accountID) ORDER BY id",
                    logger: logger
                ),
                PostgreSQLRows.grant
            )
        }
    }
}
