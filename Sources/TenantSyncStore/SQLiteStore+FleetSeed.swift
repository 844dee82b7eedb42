import Foundation
import GRDB
import TenantSyncCore

/// The fleet benchmark's state, written by the store itself (its own rows, sealing and constraints).
extension SQLiteStore {
    /// Tenants written per transaction: large enough to amortise the commit, small enough to keep the WAL short.
    static let fleetSeedChunk = 250

    /// Writes the fleet `seed` describes into this store, which must hold no tenant yet.
    ///
    /// For the fleet benchmark (`Benchmarks/`), never called by the daemon. The rows are the ones the
    /// store's own methods write (token sets through the same upsert and sealer, alerts through the same
    /// insert), in transactions of ``fleetSeedChunk`` tenants instead of one per row.
    ///
    /// - Throws: `TenantSyncError` with code `invalidArgument` when the database already holds a tenant
    ///   (nothing is written then) or the seed asks for fewer than one run or three alerts per tenant.
    public func seedFleet(_ seed: FleetSeed) async throws -> FleetSeed.Counts {
        guard seed.tenants >= 0, seed.runsPerTenant >= 1, seed.alertsPerTenant >= 3 else {
            throw TenantSyncError(
                .invalidArgument, "A fleet seed needs at least one run and three alerts per tenant (one per account).",
                context: ["seed.runs_per_tenant": "\(seed.runsPerTenant)", "seed.alerts_per_tenant": "\(seed.alertsPerTenant)"]
            )
        }
        let existing = try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM tenants") ?? 0 }
        guard existing == 0 else {
            throw TenantSyncError(
                .invalidArgument,
                "The fleet seed writes only into an empty database; \(path) already holds \(existing) tenants. Point it at a new state directory.",
                context: ["store.path": path, "store.tenants": "\(existing)"]
            )
        }
        var start = 0
        while start < seed.tenants {
            let range = start..<min(start + Self.fleetSeedChunk, seed.tenants)
            try await pool.write { db in
                for index in range { try self.seedTenant(db, index: index, seed: seed) }
            }
            start = range.upperBound
        }
        return try await fleetCounts()
    }

    /// The rows of one tenant of the fleet.
    private func seedTenant(_ db: Database, index: Int, seed: FleetSeed) throws {
        let tenantID = FleetSeed.tenantID(index)
        let created = seed.now - Double(seed.runsPerTenant + 1) * 86_400
        let createdText = Timestamp.text(created)
        try db.cachedStatement(
            sql: "INSERT INTO tenants (id, domain, display_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
        ).execute(arguments: [tenantID, FleetSeed.domain(index), "Fleet tenant \(index)", createdText, createdText])

        let tokenInvalid = index % FleetSeed.tokenInvalidEvery == 7
        let held = index % FleetSeed.heldRunEvery == 11
        let accounts: [(ServiceKind, [(name: String, resource: String)])] = [
            (.exchangeOnline, [("ews", "https://outlook.office365.com/.default"), ("graph", "https://graph.microsoft.com/.default")]),
            (.sharepointOnline, [("graph", "https://graph.microsoft.com/.default")]),
            (.onedrive, [("graph", "https://graph.microsoft.com/.default")]),
        ]
        let lifetime = seed.tokenLifetime.secondsValue
        // Spread over the hour so tokens and runs do not all share one timestamp.
        let spread = Double(index % 3_600)
        let obtained = seed.now - 3_600 + spread / 2
        var accountIDs: [Int64] = []
        var invalidGrant: (account: Int64, grant: Int64)?
        for (position, (service, grants)) in accounts.enumerated() {
            let invalid = tokenInvalid && service == .exchangeOnline
            try db.cachedStatement(
                sql: """
                    INSERT INTO service_accounts (tenant_id, service, state, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [tenantID, service.rawValue, (invalid ? AccountState.tokenInvalid : .active).rawValue, createdText, createdText])
            let accountID = db.lastInsertedRowID
            accountIDs.append(accountID)
            for grant in grants {
                try db.cachedStatement(
                    sql: "INSERT INTO grants (account_id, name, resource, flow, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
                ).execute(arguments: [accountID, grant.name, grant.resource, GrantFlow.delegated.rawValue, createdText, createdText])
                let grantID = db.lastInsertedRowID
                let tokens = TokenSet(
                    accessToken: Secret(Self.fleetToken(grantID: grantID, length: seed.accessTokenLength)),
                    refreshToken: Secret("fleet-refresh-\(index)-\(position)-\(grant.name)"),
                    scopes: [grant.resource, "offline_access"], obtainedAt: obtained, expiresAt: obtained + lifetime
                )
                try Self.upsertTokenSet(
                    db, grantID: grantID,
                    accessSealed: try sealer.seal(tokens.accessToken, boundTo: Self.tokenPlace(grantID, "access")),
                    refreshSealed: try tokens.refreshToken.map { try sealer.seal($0, boundTo: Self.tokenPlace(grantID, "refresh")) },
                    tokens: tokens, nextRefreshAt: tokens.expiresAt - 3_600, lastRefreshAt: obtained, outcome: "ok"
                )
                let grantInvalid = invalid && grant.name == "ews"
                try db.cachedStatement(sql: "UPDATE grants SET state = ? WHERE id = ?")
                    .execute(arguments: [(grantInvalid ? GrantState.invalid : .valid).rawValue, grantID])
                if grantInvalid { invalidGrant = (accountID, grantID) }
            }
        }

        // Runs: one a day, oldest first (a full read, then deltas); the newest one to two hours ago.
        let newest = seed.now - 3_600 - spread
        for age in stride(from: seed.runsPerTenant - 1, through: 0, by: -1) {
            let started = newest - Double(age) * 86_400
            let isHeld = held && age == 0
            let startedText: String = Timestamp.text(started)
            let finishedText: String = Timestamp.text(started + 45)
            try db.cachedStatement(
                sql: """
                    INSERT INTO sync_runs (tenant_id, service, trigger, mode, state, started_at, finished_at, pages,
                        users_added, users_changed, groups_changed, memberships_added)
                    VALUES (?, NULL, 'daily', ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                tenantID, age == seed.runsPerTenant - 1 ? SyncMode.full.rawValue : SyncMode.delta.rawValue,
                isHeld ? SyncRunState.held.rawValue : SyncRunState.succeeded.rawValue,
                startedText, finishedText, 2 + age % 3, age == seed.runsPerTenant - 1 ? 500 : 0,
                age % 7, age % 3, age % 5,
            ])
            if isHeld {
                try db.cachedStatement(sql: "INSERT INTO held_removals (run_id, kind, object_id) VALUES (?, 'user', ?)")
                    .execute(arguments: [db.lastInsertedRowID, "removed-user-\(index)"])
            }
        }

        // Alerts: one "protected" per account when it was provisioned, then the tenant's later events.
        var incidentID: Int64?
        if let invalidGrant {
            let seen = Timestamp.text(seed.now - 7_200)
            try db.cachedStatement(
                sql: """
                    INSERT INTO incidents (grant_id, account_id, kind, error, aadsts_code, first_seen_at, last_seen_at)
                    VALUES (?, ?, ?, 'invalid_grant', 70008, ?, ?)
                    """
            ).execute(arguments: [invalidGrant.grant, invalidGrant.account, Incident.Kind.tokenInvalid.rawValue, seen, seen])
            incidentID = db.lastInsertedRowID
        }
        var firstAlertID: Int64?
        for number in 0..<seed.alertsPerTenant {
            var alert: NewAlert
            var acknowledged = true
            let at: Date
            if number < accounts.count {
                alert = NewAlert(
                    kind: "account-protected", severity: .info, tenantID: tenantID, accountID: accountIDs[number],
                    subject: "\(accounts[number].0.displayName) protected.", body: "Fleet tenant \(index) is protected."
                )
                at = created + Double(number) * 600
            } else if number == seed.alertsPerTenant - 1, let invalidGrant, let incidentID {
                alert = NewAlert(
                    kind: Incident.Kind.tokenInvalid.rawValue, severity: .critical, tenantID: tenantID, accountID: invalidGrant.account,
                    grantID: invalidGrant.grant, incidentID: incidentID, subject: "Access token invalid",
                    body: "The access token of the Exchange Online service account of fleet tenant \(index) is invalid."
                )
                acknowledged = false
                at = seed.now - 7_200
            } else if number == seed.alertsPerTenant - 1, held {
                alert = NewAlert(
                    kind: "mass-deletion-held", severity: .warning, tenantID: tenantID,
                    subject: "Sync held", body: "A sync of fleet tenant \(index) would remove too much; it is held."
                )
                acknowledged = false
                at = newest + 45
            } else {
                alert = NewAlert(
                    kind: "provisioning-failed", severity: .warning, tenantID: tenantID, accountID: accountIDs[number % accountIDs.count],
                    subject: "Provisioning failed", body: "An earlier provisioning attempt of fleet tenant \(index) failed."
                )
                at = created - Double(number) * 60
            }
            let stored = try Self.insertAlert(db, alert, channels: seed.channels, at: at)
            firstAlertID = firstAlertID ?? stored.id
            if acknowledged {
                let acknowledgedText: String = Timestamp.text(at + 3_600)
                try db.cachedStatement(sql: "UPDATE alerts SET acknowledged_at = ? WHERE id = ?").execute(arguments: [acknowledgedText, stored.id])
            }
        }
        if let firstAlertID {
            try db.cachedStatement(
                sql: """
                    UPDATE alert_deliveries SET state = 'delivered', attempts = 1, delivered_at = next_attempt_at
                    WHERE alert_id >= ? AND state = 'pending'
                    """
            ).execute(arguments: [firstAlertID])
        }
    }

    /// An access token of `length` characters, distinct per grant (tokens are not compressible in real life either).
    private static func fleetToken(grantID: Int64, length: Int) -> String {
        var generator = SplitMix64(seed: UInt64(bitPattern: grantID))
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        return "eyJ" + String((0..<max(length - 3, 0)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }

    /// What the database holds, counted table by table (the seed's report).
    func fleetCounts() async throws -> FleetSeed.Counts {
        try await pool.read { db in
            func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }
            var counts = FleetSeed.Counts()
            counts.tenants = try count("SELECT count(*) FROM tenants")
            counts.accounts = try count("SELECT count(*) FROM service_accounts")
            counts.tokenInvalidAccounts = try count("SELECT count(*) FROM service_accounts WHERE state = 'token-invalid'")
            counts.grants = try count("SELECT count(*) FROM grants")
            counts.tokenSets = try count("SELECT count(*) FROM token_sets")
            counts.syncRuns = try count("SELECT count(*) FROM sync_runs")
            counts.heldRuns = try count("SELECT count(*) FROM sync_runs WHERE state = 'held'")
            counts.alerts = try count("SELECT count(*) FROM alerts")
            counts.unacknowledgedAlerts = try count("SELECT count(*) FROM alerts WHERE acknowledged_at IS NULL")
            counts.pendingDeliveries = try count("SELECT count(*) FROM alert_deliveries WHERE state = 'pending'")
            return counts
        }
    }
}

/// A small deterministic generator (SplitMix64), so two seeds of the same size write the same tokens.
private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
