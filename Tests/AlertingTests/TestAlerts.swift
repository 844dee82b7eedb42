import Credentials
import Foundation
import Logging
import TenantSyncCore
import TenantSyncStore

/// Alerts and stores shared by the Alerting tests.
enum TestAlerts {
    static func tokenInvalid(tenant: String = "contoso.com", accountID: Int64 = 17) -> NewAlert {
        NewAlert(
            kind: "token-invalid", severity: .critical, tenantID: "8f3c0e51-0000-4000-8000-000000000001", accountID: accountID, grantID: 3,
            subject: "Access token invalid: Exchange Online for \(tenant)",
            body: "Microsoft refused the Graph grant.",
            facts: AlertFacts(
                tenantID: "8f3c0e51-0000-4000-8000-000000000001", tenantDomain: tenant, service: .exchangeOnline, accountID: accountID, grantID: 3,
                grantName: "graph", oauthError: "invalid_grant", aadstsCode: 70008, traceID: "0d2e5c1a-7b1f-4c59-9d0e-2b7c1c3f9a00",
                correlationID: "c0ffee00-1111-2222-3333-444455556666", command: "tenantsyncctl renew \(accountID)"
            )
        )
    }

    static func makeStore(directory: String) throws -> SQLiteStore {
        try SQLiteStore(path: directory + "/t.sqlite", sealer: SecretSealer(keyBytes: Array(repeating: 7, count: 32)), logger: Logger(label: "test"))
    }

    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "tenantsync-alerting-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

import Alerting
