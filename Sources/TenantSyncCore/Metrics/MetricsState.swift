import struct Foundation.Date

/// The state behind the daemon's gauges, read in a fixed number of set-based queries.
///
/// Labels are names an operator knows (the tenant's primary domain, the service, the grant's
/// name), never ids of users, groups, runs or alerts, so the series count is bounded by the
/// number of grants, accounts and tenants.
public struct MetricsState: Sendable, Equatable {
    /// One grant's token schedule.
    public struct Grant: Sendable, Equatable {
        public var tenant: String
        public var service: ServiceKind
        public var grant: String
        public var state: GrantState
        public var expiresAt: Date?
        public var nextRefreshAt: Date?
        public var lastRefreshAt: Date?

        public init(
            tenant: String, service: ServiceKind, grant: String, state: GrantState, expiresAt: Date?, nextRefreshAt: Date?,
            lastRefreshAt: Date?
        ) {
            self.tenant = tenant
            self.service = service
            self.grant = grant
            self.state = state
            self.expiresAt = expiresAt
            self.nextRefreshAt = nextRefreshAt
            self.lastRefreshAt = lastRefreshAt
        }
    }

    /// One service account.
    public struct Account: Sendable, Equatable {
        public var tenant: String
        public var service: ServiceKind
        public var state: AccountState
        /// The expiry of the account's own app secret (Teams Chat), where it is known.
        public var clientSecretExpiresAt: Date?

        public init(tenant: String, service: ServiceKind, state: AccountState, clientSecretExpiresAt: Date?) {
            self.tenant = tenant
            self.service = service
            self.state = state
            self.clientSecretExpiresAt = clientSecretExpiresAt
        }
    }

    /// One tenant's directory sync.
    public struct TenantSync: Sendable, Equatable {
        public var tenant: String
        public var lastAttemptAt: Date?
        public var lastSuccessAt: Date?
        public var directoryUsers: Int
        /// A mass-deletion hold waits for an operator.
        public var held: Bool
        /// The tenant gets a daily sync (scope `all` and an account past provisioning that syncs the directory).
        public var scheduled: Bool

        public init(tenant: String, lastAttemptAt: Date?, lastSuccessAt: Date?, directoryUsers: Int, held: Bool, scheduled: Bool) {
            self.tenant = tenant
            self.scheduled = scheduled
            self.lastAttemptAt = lastAttemptAt
            self.lastSuccessAt = lastSuccessAt
            self.directoryUsers = directoryUsers
            self.held = held
        }
    }

    /// The outbox of one channel.
    public struct OutboxChannel: Sendable, Equatable {
        public var channel: String
        public var pending: Int
        /// When the oldest alert still waiting for this channel was raised.
        public var oldestPendingAt: Date?

        public init(channel: String, pending: Int, oldestPendingAt: Date?) {
            self.channel = channel
            self.pending = pending
            self.oldestPendingAt = oldestPendingAt
        }
    }

    /// Alerts raised of one kind and severity.
    public struct AlertCount: Sendable, Equatable {
        public var kind: String
        public var severity: String
        public var count: Int

        public init(kind: String, severity: String, count: Int) {
            self.kind = kind
            self.severity = severity
            self.count = count
        }
    }

    /// One tenant's count of changes to what its series show (kept by the store's triggers).
    public struct TenantVersion: Sendable, Equatable {
        /// The primary domain, the `tenant` label.
        public var tenant: String
        public var version: Int64

        public init(tenant: String, version: Int64) {
            self.tenant = tenant
            self.version = version
        }
    }

    /// The grants, accounts and sync facts of the tenants read (see ``versions``).
    public var grants: [Grant]
    public var accounts: [Account]
    public var tenants: [TenantSync]
    /// Every tenant with its count of changes, in the store's order, when the source keeps them: then ``grants``,
    /// ``accounts`` and ``tenants`` hold only the tenants whose count differed from the ones the read was given, and
    /// every other tenant's series are as the reader last wrote them. Nil: they hold every tenant.
    public var versions: [TenantVersion]?
    public var outbox: [OutboxChannel]
    public var incidentsOpen: Int
    /// Alerts stored after the id the read was asked for, by kind and severity.
    public var newAlerts: [AlertCount]
    /// The newest alert id; pass it to the next read.
    public var newestAlertID: Int64

    public init(
        grants: [Grant] = [], accounts: [Account] = [], tenants: [TenantSync] = [], outbox: [OutboxChannel] = [],
        incidentsOpen: Int = 0, newAlerts: [AlertCount] = [], newestAlertID: Int64 = 0, versions: [TenantVersion]? = nil
    ) {
        self.versions = versions
        self.grants = grants
        self.accounts = accounts
        self.tenants = tenants
        self.outbox = outbox
        self.incidentsOpen = incidentsOpen
        self.newAlerts = newAlerts
        self.newestAlertID = newestAlertID
    }
}
