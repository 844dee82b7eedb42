import struct Foundation.Date

/// Tenants, service accounts and grants.
///
/// The services depend on these protocols, never on a database: the SQLite
/// store implements them today, a PostgreSQL store can tomorrow.
public protocol AccountStore: Sendable {
    /// Creates the tenant or updates its domain and display name; keeps its scope.
    @discardableResult
    func upsertTenant(id: String, domain: String, displayName: String?) async throws -> Tenant
    /// Finds a tenant by id or by primary domain (case-insensitive).
    func tenant(idOrDomain: String) async throws -> Tenant?
    func tenants() async throws -> [Tenant]
    func setSyncScope(tenantID: String, scope: SyncScope) async throws

    /// Creates an account in `provisioning`; refuses a second account for the same tenant and service.
    func createAccount(tenantID: String, service: ServiceKind, appID: String?, licensingModel: LicensingModel?) async throws -> ServiceAccount
    func account(id: Int64) async throws -> ServiceAccount?
    func account(tenantID: String, service: ServiceKind) async throws -> ServiceAccount?
    func accounts() async throws -> [ServiceAccount]
    /// The accounts the query selects, ordered by id, each with its tenant, last run, next refresh and open incidents.
    ///
    /// One query, whatever the number of tenants: the control socket's `accounts` and `status` read through it.
    func accountOverviews(_ query: AccountQuery) async throws -> [AccountOverview]
    /// How many accounts are in each state.
    func accountStateCounts() async throws -> AccountStateCounts
    /// How many accounts `AccountQuery(needsAttention: true)` selects (token-invalid, or an open incident), counted
    /// without reading them: `status` lists only the first few of a fleet's.
    func accountsNeedingAttentionCount() async throws -> Int
    func setAccountState(id: Int64, state: AccountState, provisioningStep: String?, provisioningError: String?) async throws
    func setAccountDetails(id: Int64, detailsJSON: String) async throws
    /// Stores (sealed) the client secret of the account's own app.
    func setClientSecret(accountID: Int64, appID: String, secret: Secret, expiresAt: Date?) async throws
    func clientSecret(accountID: Int64) async throws -> Secret?
    /// Stores the certificate credential of the account's own app (key sealed) in place of any secret,
    /// and records the certificate's expiry (`thumbprint` as Entra lists it) for the expiry alerts.
    func setClientCertificate(accountID: Int64, appID: String, certificate: AccountCertificate, thumbprint: String, expiresAt: Date) async throws
    /// The certificate credential of the account's own app, `nil` when it authenticates with a secret.
    func clientCertificate(accountID: Int64) async throws -> AccountCertificate?
    /// Sets the Teams Chat licensing model (A, B or evaluation).
    func setLicensingModel(accountID: Int64, model: LicensingModel?) async throws
    /// Removes the account, its grants, tokens and client secret; deleted pages are zeroed.
    /// Inline Mode: records the policy and the mail-flow direction of the account.
    func setInlineMailFlow(accountID: Int64, policy: String, direction: InlineDirection) async throws
    func deleteAccount(id: Int64) async throws

    @discardableResult
    func addGrant(accountID: Int64, name: String, resource: String, flow: GrantFlow) async throws -> Grant
    func grant(id: Int64) async throws -> Grant?
    func grants(accountID: Int64) async throws -> [Grant]
}

/// Token sets and their refresh bookkeeping.
public protocol TokenStore: Sendable {
    /// Commits a new token set (sealed), marks the grant `valid` and schedules its next refresh.
    ///
    /// Returns only after the transaction is durable: a rotated refresh token is
    /// never used before it is stored.
    func storeTokenSet(grantID: Int64, tokens: TokenSet, nextRefreshAt: Date) async throws
    func tokenSet(grantID: Int64) async throws -> TokenSet?
    func tokenStatus(grantID: Int64) async throws -> TokenStatus?
    /// Valid grants whose next refresh is at or before `date`, soonest first.
    func grantsDue(before date: Date, limit: Int) async throws -> [Grant]
}

/// Incidents: grants that stopped working.
public protocol IncidentStore: Sendable {
    /// Opens an incident or, if one of the same kind is open for the grant, records another occurrence.
    ///
    /// - Returns: the incident and whether it is new (only a new one raises an alert).
    func reportIncident(_ report: IncidentReport) async throws -> (incident: Incident, isNew: Bool)
    func openIncidents() async throws -> [Incident]
    /// The account's open incidents, oldest first.
    func openIncidents(accountID: Int64) async throws -> [Incident]
}

/// The synchronized directory, the selected targets and the sync runs.
public protocol DirectoryStore: Sendable {
    /// Applies one batch in one transaction, delta links included.
    @discardableResult
    func applyDirectoryBatch(tenantID: String, batch: DirectoryBatch, at: Date) async throws -> DirectoryChangeCounts
    func deltaLink(tenantID: String, resource: String) async throws -> String?
    func clearDeltaLinks(tenantID: String) async throws
    func directoryUser(tenantID: String, userPrincipalName: String) async throws -> DirectoryUser?
    /// How many stored members each of these groups has (absent: none), counted in the store.
    func memberCounts(tenantID: String, groupIDs: [String]) async throws -> [String: Int]

    func selectedTargets(tenantID: String) async throws -> [SelectedTarget]
    func addSelectedTargets(_ targets: [SelectedTarget]) async throws
    func removeSelectedTargets(tenantID: String, userPrincipalNames: [String]) async throws

    func startSyncRun(tenantID: String, service: ServiceKind?, trigger: SyncTrigger, mode: SyncMode, at: Date) async throws -> SyncRun
    func recordSyncProgress(runID: Int64, pages: Int, counts: DirectoryChangeCounts) async throws
    func finishSyncRun(runID: Int64, state: SyncRunState, error: String?, at: Date) async throws
    func syncRun(id: Int64) async throws -> SyncRun?
    func syncRuns(tenantID: String, limit: Int) async throws -> [SyncRun]
    /// The newest run of the tenant that succeeded.
    func lastSuccessfulSyncRun(tenantID: String) async throws -> SyncRun?
    /// Marks runs left `running` by a process that died as failed; returns how many. A store shared by several
    /// daemons leaves alone the runs of tenants whose sync lease a node holds (they are going on that node).
    @discardableResult
    func failInterruptedSyncRuns(at: Date) async throws -> Int
    /// Adds an operator-facing note to a run (e.g. "delta reset: fell back to a full sync").
    func setSyncRunNote(runID: Int64, note: String) async throws

    func directoryUserIDs(tenantID: String) async throws -> Set<String>
    /// Which of `ids` are stored users of the tenant, looked up in the store: a delta run checks the removals it
    /// read without loading the whole directory.
    func storedUserIDs(tenantID: String, among ids: Set<String>) async throws -> Set<String>
    /// How many users of the tenant are synced, counted in the store (a sync's pacing needs only the number).
    func directoryUserCount(tenantID: String) async throws -> Int
    func directoryGroupIDs(tenantID: String) async throws -> Set<String>

    /// Marks the run `held` and keeps what it would remove, and its delta links, for an operator to confirm.
    func holdSyncRun(runID: Int64, removedUserIDs: [String], removedGroupIDs: [String], deltaLinks: [String: String], at: Date) async throws
    /// Applies a held run's removals and delta links in one transaction and marks it `succeeded`.
    @discardableResult
    func confirmHeldSyncRun(runID: Int64, at: Date) async throws -> DirectoryChangeCounts
    /// Drops a held run's removals and links and marks it `failed`.
    func discardHeldSyncRun(runID: Int64, at: Date) async throws
    /// The tenant's runs waiting in state `held`, newest first.
    func heldSyncRuns(tenantID: String) async throws -> [SyncRun]
    /// The runs of every tenant waiting in state `held`, by tenant domain, newest first within a tenant; the first
    /// `limit` of them when given.
    func heldSyncRunsOfAllTenants(limit: Int?) async throws -> [SyncRun]
    /// How many runs wait in state `held`, across all tenants.
    func heldSyncRunCount() async throws -> Int
    /// Every tenant the daily sync applies to (scope `all`, an account past provisioning of a service
    /// that syncs the directory), or only `tenantID` when given, with its newest run's start. One query.
    func scheduledTenants(onlyTenantID tenantID: String?) async throws -> [ScheduledTenant]

    /// Counts, newest full and delta runs, and delta link ages of the tenant's synced directory.
    func directorySummary(tenantID: String) async throws -> DirectorySummary
    /// The synced user with this user principal name (case-insensitive) and one page of its groups,
    /// those with an id after `groupsAfter`, at most `groupsLimit`; `nil` when the directory has no such user.
    func directoryUserRecord(tenantID: String, userPrincipalName: String, groupsAfter: String?, groupsLimit: Int) async throws -> DirectoryUserRecord?
}

/// Alerts and the per-channel outbox.
public protocol AlertStore: Sendable {
    /// Stores the alert and one pending delivery per channel in one transaction.
    func enqueueAlert(_ alert: NewAlert, channels: [String], at: Date) async throws -> Alert
    func alert(id: Int64) async throws -> Alert?
    func alerts(includeAcknowledged: Bool, limit: Int) async throws -> [Alert]
    /// The alerts the query selects, newest first.
    func alerts(_ query: AlertQuery) async throws -> [Alert]
    /// How many alerts no operator has acknowledged yet.
    func unacknowledgedAlertCount() async throws -> Int
    func acknowledgeAlert(id: Int64, at: Date) async throws
    func deliveries(alertID: Int64) async throws -> [AlertDelivery]
    /// The deliveries of these alerts, by alert id, in one query.
    func deliveries(alertIDs: [Int64]) async throws -> [Int64: [AlertDelivery]]
    /// Pending deliveries per channel: how many and the oldest next attempt.
    func pendingDeliveriesByChannel() async throws -> [ChannelBacklog]
    /// Pending deliveries whose next attempt is due at `date`, oldest first.
    func dueDeliveries(at date: Date, limit: Int) async throws -> [AlertDelivery]
    func markDelivered(alertID: Int64, channel: String, at: Date) async throws
    func markDeliveryFailed(alertID: Int64, channel: String, error: String, nextAttemptAt: Date) async throws
    /// The earliest next attempt of any pending delivery.
    func nextDeliveryDate() async throws -> Date?
    /// Deletes the channel's pending deliveries (the channel was removed); returns how many.
    func discardPendingDeliveries(channel: String) async throws -> Int
    /// Deletes one pending delivery (its channel does not take alerts of that kind); a delivered one stays.
    func discardPendingDelivery(alertID: Int64, channel: String) async throws
    /// Makes the channel's pending deliveries due at `date` (the channel was reconfigured); returns how many.
    func retryPendingDeliveries(channel: String, at date: Date) async throws -> Int
}

/// Everything the daemon's services need from persistent state.
public typealias TenantSyncStorage = AccountStore & TokenStore & IncidentStore & DirectoryStore & AlertStore & ConsentSessionStore

extension DirectoryStore {
    /// Every held run of every tenant (``heldSyncRunsOfAllTenants(limit:)`` without a limit).
    public func heldSyncRunsOfAllTenants() async throws -> [SyncRun] {
        try await heldSyncRunsOfAllTenants(limit: nil)
    }
}
