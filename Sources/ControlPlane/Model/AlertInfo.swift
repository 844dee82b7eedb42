import struct Foundation.Date
import TenantSyncCore

/// A stored alert with its deliveries.
public struct AlertInfo: Codable, Sendable, Equatable {
    public var id: Int64
    public var kind: String
    public var severity: Alert.Severity
    public var tenantID: String?
    public var accountID: Int64?
    public var subject: String
    public var body: String
    public var createdAt: Date
    public var acknowledgedAt: Date?
    public var deliveries: [DeliveryInfo]

    public init(_ alert: Alert, deliveries: [AlertDelivery]) {
        self.id = alert.id
        self.kind = alert.kind
        self.severity = alert.severity
        self.tenantID = alert.tenantID
        self.accountID = alert.accountID
        self.subject = alert.subject
        self.body = alert.body
        self.createdAt = alert.createdAt
        self.acknowledgedAt = alert.acknowledgedAt
        self.deliveries = deliveries.map(DeliveryInfo.init)
    }
}

/// One delivery of an alert through one channel.
public struct DeliveryInfo: Codable, Sendable, Equatable {
    public var channel: String
    public var state: AlertDelivery.State
    public var attempts: Int
    public var lastError: String?
    public var deliveredAt: Date?

    public init(_ delivery: AlertDelivery) {
        self.channel = delivery.channel
        self.state = delivery.state
        self.attempts = delivery.attempts
        self.lastError = delivery.lastError
        self.deliveredAt = delivery.deliveredAt
    }
}

/// The parameters of `ListAlerts`: filters applied by the daemon's store, and the page to return.
public struct ListAlertsRequest: Codable, Sendable, Equatable {
    /// Include acknowledged alerts.
    public var all: Bool?
    /// At most this many (1–1,000; 100 when absent).
    public var limit: Int?
    /// `unacknowledged`, `acknowledged` or `any`; when absent, `any` with `all`, else `unacknowledged`.
    public var state: String?
    /// Only alerts about this tenant (id or primary domain).
    public var tenant: String?
    /// Only alerts about an account of this service; anything but a service name is refused with `InvalidArgument`.
    public var service: String?
    /// The `next` cursor of the previous page.
    public var after: String?

    public init(all: Bool? = nil, limit: Int? = nil, state: String? = nil, tenant: String? = nil, service: String? = nil, after: String? = nil) {
        self.all = all
        self.limit = limit
        self.state = state
        self.tenant = tenant
        self.service = service
        self.after = after
    }
}
