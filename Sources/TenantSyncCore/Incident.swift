import struct Foundation.Date

/// A grant that stopped working, from first failure until it is renewed.
public struct Incident: Sendable, Equatable, Codable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Microsoft refused the grant permanently; an administrator must renew it.
        case tokenInvalid = "token-invalid"
        /// Transient failures outlasted the access token; retries go on.
        case tokenRefreshFailing = "token-refresh-failing"
    }

    public var id: Int64
    public var grantID: Int64?
    public var accountID: Int64?
    public var kind: Kind
    /// The OAuth `error` field, e.g. `invalid_grant`.
    public var error: String?
    public var aadstsCode: Int?
    public var traceID: String?
    public var correlationID: String?
    public var firstSeenAt: Date
    public var lastSeenAt: Date
    public var occurrences: Int
    public var resolvedAt: Date?

    public init(
        id: Int64, grantID: Int64?, accountID: Int64?, kind: Kind, error: String?, aadstsCode: Int?,
        traceID: String?, correlationID: String?, firstSeenAt: Date, lastSeenAt: Date, occurrences: Int, resolvedAt: Date?
    ) {
        self.id = id
        self.grantID = grantID
        self.accountID = accountID
        self.kind = kind
        self.error = error
        self.aadstsCode = aadstsCode
        self.traceID = traceID
        self.correlationID = correlationID
        self.firstSeenAt = firstSeenAt
        self.lastSeenAt = lastSeenAt
        self.occurrences = occurrences
        self.resolvedAt = resolvedAt
    }
}

/// What is known about a failure when an incident is opened or seen again.
public struct IncidentReport: Sendable, Equatable {
    public var grantID: Int64
    public var accountID: Int64
    public var kind: Incident.Kind
    public var error: String?
    public var aadstsCode: Int?
    public var traceID: String?
    public var correlationID: String?
    public var seenAt: Date

    public init(grantID: Int64, accountID: Int64, kind: Incident.Kind, error: String?, aadstsCode: Int?, traceID: String?, correlationID: String?, seenAt: Date) {
        self.grantID = grantID
        self.accountID = accountID
        self.kind = kind
        self.error = error
        self.aadstsCode = aadstsCode
        self.traceID = traceID
        self.correlationID = correlationID
        self.seenAt = seenAt
    }
}
