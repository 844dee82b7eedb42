import Foundation

/// The shape of a benchmark fleet that ``SQLiteStore/seedFleet(_:)`` writes into an empty database.
///
/// Per tenant: an Exchange Online account (EWS and Graph grants), a SharePoint Online and a OneDrive
/// account (one Graph grant each), so 3 accounts and 4 delegated grants with sealed access and refresh
/// tokens; `runsPerTenant` daily sync runs, one a day, the newest started between one and two hours
/// before `now`; `alertsPerTenant` alerts, delivered on every channel. Every hundredth tenant's Exchange
/// Online account is token-invalid (its EWS grant invalid, one open incident, an unacknowledged alert);
/// every two hundredth tenant's newest run is held by the mass-deletion guard.
///
/// The state is quiet on purpose: tokens expire `tokenLifetime` after `now` and are next refreshed an
/// hour before that, and a daily sync is never due less than 12 hours after a tenant's last run started
/// (``DailySyncSchedule``), so a daemon started on it has nothing to do for about ten hours.
public struct FleetSeed: Sendable, Equatable {
    public var tenants: Int
    public var runsPerTenant: Int
    public var alertsPerTenant: Int
    public var now: Date
    public var tokenLifetime: Duration
    /// Characters of each access token before sealing (Microsoft's are JWTs of one to two kilobytes).
    public var accessTokenLength: Int
    /// The channels each alert was delivered on.
    public var channels: [String]

    public init(
        tenants: Int, runsPerTenant: Int = 30, alertsPerTenant: Int = 5, now: Date, tokenLifetime: Duration = .seconds(12 * 3_600),
        accessTokenLength: Int = 1_500, channels: [String] = ["journal", "smtp"]
    ) {
        self.tenants = tenants
        self.runsPerTenant = runsPerTenant
        self.alertsPerTenant = alertsPerTenant
        self.now = now
        self.tokenLifetime = tokenLifetime
        self.accessTokenLength = accessTokenLength
        self.channels = channels
    }

    /// Every this many tenants, one has a token-invalid account.
    public static let tokenInvalidEvery = 100
    /// Every this many tenants, one has its newest run held.
    public static let heldRunEvery = 200

    /// The tenant id of the tenant at `index`: a stable lower-case GUID.
    public static func tenantID(_ index: Int) -> String {
        String(format: "%08x-f1ee-4000-8000-%012x", index, index)
    }

    public static func domain(_ index: Int) -> String { "fleet-\(index).example" }

    /// What a seed wrote, counted in the database afterwards.
    public struct Counts: Sendable, Equatable, Codable {
        public var tenants = 0
        public var accounts = 0
        public var tokenInvalidAccounts = 0
        public var grants = 0
        public var tokenSets = 0
        public var syncRuns = 0
        public var heldRuns = 0
        public var alerts = 0
        public var unacknowledgedAlerts = 0
        public var pendingDeliveries = 0

        public init() {}
    }
}
