import struct Foundation.Date

/// The atomic steps of a grant's token lifecycle.
///
/// Each method is one transaction, so that a crash between "the grant is
/// invalid" and "an alert was queued" cannot lose the alert, and a refresh
/// that raced a renewal cannot overwrite the renewed tokens.
public protocol TokenLifecycleStore: Sendable {
    /// Commits a small write; throws when the store cannot persist (disk full, read-only, I/O error).
    ///
    /// Called before a refresh token is redeemed: its successor must be storable, or it is lost.
    func probeWrite(at date: Date) async throws

    /// The grant, its token set and the set's generation, read together in one transaction.
    func tokenSnapshot(grantID: Int64) async throws -> TokenSnapshot?

    /// Stores a refreshed token set if the grant still holds generation `expectedGeneration`
    /// and is valid; resolves an open `token-refresh-failing` incident of the grant.
    ///
    /// Returns only after the transaction is durable.
    /// - Returns: `false` when the grant was renewed, invalidated or deleted meanwhile (nothing stored).
    func storeRefreshedTokenSet(grantID: Int64, tokens: TokenSet, nextRefreshAt: Date, expectedGeneration: Int, at: Date) async throws -> Bool

    /// Records a transient failure; when `incident` is given, opens or updates that incident and,
    /// if it is new, enqueues `alert(incident)` on `channels`.
    func recordTransientFailure(
        grantID: Int64, outcome: String, at: Date, nextRefreshAt: Date,
        incident: IncidentReport?, alert: @Sendable (Incident) -> NewAlert, channels: [String]
    ) async throws -> TokenIncidentOutcome

    /// Marks the grant `invalid` and its account `token-invalid`, records the failure, opens or
    /// updates the `token-invalid` incident and, only if it is new, enqueues `alert(incident)`.
    func invalidateGrant(
        grantID: Int64, outcome: String, report: IncidentReport,
        alert: @Sendable (Incident) -> NewAlert, channels: [String]
    ) async throws -> TokenIncidentOutcome

    /// Replaces the grant's token set after an administrator renewed it (and, for client
    /// credentials, the app id and secret), marks the grant valid, resolves its incidents,
    /// makes the account `active` if it was `token-invalid` and all its grants are now valid,
    /// and enqueues `alert`.
    func applyRenewal(_ renewal: TokenRenewalRecord, alert: @Sendable (ServiceAccount, [Incident]) -> NewAlert, channels: [String]) async throws -> TokenRenewalOutcome
}

/// The result of a lifecycle step that may open an incident.
public struct TokenIncidentOutcome: Sendable, Equatable {
    public var incident: Incident?
    /// Whether the incident was opened by this call.
    public var isNew: Bool
    /// The alert enqueued, if any.
    public var alert: Alert?

    public init(incident: Incident?, isNew: Bool, alert: Alert?) {
        self.incident = incident
        self.isNew = isNew
        self.alert = alert
    }
}

/// What an administrator's renewal replaces.
public struct TokenRenewalRecord: Sendable, Equatable {
    public var grantID: Int64
    public var tokens: TokenSet
    public var nextRefreshAt: Date
    /// For client-credentials grants: the app id (possibly changed) and its new secret.
    public var clientSecret: ClientSecretUpdate?
    public var at: Date

    /// A new app id and credential (secret or certificate) for an account's own app.
    public struct ClientSecretUpdate: Sendable, Equatable {
        public var appID: String
        /// `nil` when the app switches to (or stays with) a certificate.
        public var secret: Secret?
        /// The certificate credential that replaces the secret, with its SHA-1 thumbprint for the expiry record.
        public var certificate: AccountCertificate?
        public var thumbprint: String?
        public var expiresAt: Date?

        public init(appID: String, secret: Secret, expiresAt: Date?) {
            self.appID = appID
            self.secret = secret
            self.expiresAt = expiresAt
        }

        public init(appID: String, certificate: AccountCertificate, thumbprint: String, expiresAt: Date) {
            self.appID = appID
            self.certificate = certificate
            self.thumbprint = thumbprint
            self.expiresAt = expiresAt
        }
    }

    public init(grantID: Int64, tokens: TokenSet, nextRefreshAt: Date, clientSecret: ClientSecretUpdate?, at: Date) {
        self.grantID = grantID
        self.tokens = tokens
        self.nextRefreshAt = nextRefreshAt
        self.clientSecret = clientSecret
        self.at = at
    }
}

/// The result of a renewal.
public struct TokenRenewalOutcome: Sendable, Equatable {
    public var account: ServiceAccount
    public var grant: Grant
    /// The incidents the renewal closed.
    public var resolvedIncidents: [Incident]
    public var alert: Alert

    public init(account: ServiceAccount, grant: Grant, resolvedIncidents: [Incident], alert: Alert) {
        self.account = account
        self.grant = grant
        self.resolvedIncidents = resolvedIncidents
        self.alert = alert
    }
}

/// A grant with its token set and bookkeeping, read together.
public struct TokenSnapshot: Sendable, Equatable {
    public var grant: Grant
    /// Absent while the grant awaits consent.
    public var tokens: TokenSet?
    /// Bumped by every stored token set; used to detect a renewal racing a refresh.
    public var generation: Int
    public var consecutiveFailures: Int
    /// When the scheduler will (or should already) refresh the grant; `nil` without a token set.
    public var nextRefreshAt: Date?

    public init(grant: Grant, tokens: TokenSet?, generation: Int, consecutiveFailures: Int, nextRefreshAt: Date?) {
        self.grant = grant
        self.tokens = tokens
        self.generation = generation
        self.consecutiveFailures = consecutiveFailures
        self.nextRefreshAt = nextRefreshAt
    }
}
