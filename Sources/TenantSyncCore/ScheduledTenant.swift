import struct Foundation.Date

/// A tenant the daily sync applies to (scope `all`, a syncing account) and when its last run started.
///
/// The scheduler computes every due date from one list of these, read in one query.
public struct ScheduledTenant: Sendable, Equatable {
    public var tenantID: String
    public var domain: String
    /// The start of the tenant's newest run, whatever its outcome; nil when it never ran.
    public var lastRunStartedAt: Date?

    public init(tenantID: String, domain: String, lastRunStartedAt: Date?) {
        self.tenantID = tenantID
        self.domain = domain
        self.lastRunStartedAt = lastRunStartedAt
    }
}
