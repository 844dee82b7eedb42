import struct Foundation.Date

/// A durable record of an event an operator must see.
public struct Alert: Sendable, Equatable, Codable {
    public enum Severity: String, Codable, Sendable, CaseIterable { case info, warning, critical }

    public var id: Int64
    /// What happened, e.g. `account-protected`, `token-invalid`.
    public var kind: String
    public var severity: Severity
    public var tenantID: String?
    public var accountID: Int64?
    public var grantID: Int64?
    public var incidentID: Int64?
    public var subject: String
    public var body: String
    /// The typed facts every channel reads (stored as the `details_json` column).
    public var facts: AlertFacts
    public var createdAt: Date
    public var acknowledgedAt: Date?

    public init(
        id: Int64, kind: String, severity: Severity, tenantID: String?, accountID: Int64?, grantID: Int64?,
        incidentID: Int64?, subject: String, body: String, facts: AlertFacts, createdAt: Date, acknowledgedAt: Date?
    ) {
        self.id = id
        self.kind = kind
        self.severity = severity
        self.tenantID = tenantID
        self.accountID = accountID
        self.grantID = grantID
        self.incidentID = incidentID
        self.subject = subject
        self.body = body
        self.facts = facts
        self.createdAt = createdAt
        self.acknowledgedAt = acknowledgedAt
    }
}

/// An alert about to be stored; the store assigns its id.
public struct NewAlert: Sendable, Equatable {
    public var kind: String
    public var severity: Alert.Severity
    public var tenantID: String?
    public var accountID: Int64?
    public var grantID: Int64?
    public var incidentID: Int64?
    public var subject: String
    public var body: String
    /// The facts the channels read; the same type for every producer, so a key cannot be misspelt.
    public var facts: AlertFacts

    public init(
        kind: String, severity: Alert.Severity, tenantID: String? = nil, accountID: Int64? = nil, grantID: Int64? = nil,
        incidentID: Int64? = nil, subject: String, body: String, facts: AlertFacts = AlertFacts()
    ) {
        self.kind = kind
        self.severity = severity
        self.tenantID = tenantID
        self.accountID = accountID
        self.grantID = grantID
        self.incidentID = incidentID
        self.subject = subject
        self.body = body
        self.facts = facts
    }
}

/// One channel's delivery of one alert, as tracked by the outbox.
public struct AlertDelivery: Sendable, Equatable, Codable {
    public enum State: String, Codable, Sendable { case pending, delivered }

    public var alertID: Int64
    /// `journal`, `smtp`, or `hook:NAME`.
    public var channel: String
    public var state: State
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    public var deliveredAt: Date?

    public init(alertID: Int64, channel: String, state: State, attempts: Int, nextAttemptAt: Date, lastError: String?, deliveredAt: Date?) {
        self.alertID = alertID
        self.channel = channel
        self.state = state
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.lastError = lastError
        self.deliveredAt = deliveredAt
    }
}
