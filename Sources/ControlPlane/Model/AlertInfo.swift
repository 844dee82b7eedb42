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

/// The parameters of `ListAlerts`.
public struct ListAlertsRequest: Codable, Sendable, Equatable {
    /// Include acknowledged alerts.
    public var all: Bool?
    public var limit: Int?

    public init(all: Bool? = nil, limit: Int? = nil) {
        self.all = all
        self.limit = limit
    }
}
