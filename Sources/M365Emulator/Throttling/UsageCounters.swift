/// Graph requests and resource units one app spent (in one tenant or across all), as the admin API reports them.
public struct UsageCounters: Sendable, Codable, Equatable {
    /// Graph requests that reached the throttling check (authenticated and permitted), 429s included.
    public var requests = 0
    /// Resource units charged (429s charge nothing).
    public var resourceUnits = 0
    /// Requests answered 429 by the resource-unit buckets.
    public var throttled = 0
    /// Requests by `x-ms-throttle-priority` (`low`, `normal`, `high`).
    public var requestsByPriority: [String: Int] = [:]

    public init() {}

    mutating func record(cost: Int, priority: ThrottlePriority, throttled wasThrottled: Bool) {
        requests += 1
        requestsByPriority[priority.rawValue, default: 0] += 1
        if wasThrottled { throttled += 1 } else { resourceUnits += cost }
    }

    static func + (a: UsageCounters, b: UsageCounters) -> UsageCounters {
        var sum = a
        sum.requests += b.requests
        sum.resourceUnits += b.resourceUnits
        sum.throttled += b.throttled
        sum.requestsByPriority.merge(b.requestsByPriority, uniquingKeysWith: +)
        return sum
    }
}

/// `GET /_emulator/tenants/{t}/usage`: the tenant's totals, per app, and the app+tenant limit in force.
public struct TenantUsage: Sendable, Codable, Equatable {
    public var tenantId: String
    /// Resource units per 10 s per app in this tenant (size class S/M/L, or the tenant's override).
    public var resourceUnitsPer10Seconds: Int
    /// Whether the tenant's buckets answer 429 (usage is counted either way).
    public var throttlingEnabled: Bool
    public var total: UsageCounters
    /// By app id (lowercased).
    public var apps: [String: UsageCounters]
}

/// `GET /_emulator/usage`: per app across all tenants, per tenant, and the per-app limit in force.
public struct EmulatorUsage: Sendable, Codable, Equatable {
    /// Resource units per 20 s per app across all tenants (Microsoft: 150,000).
    public var applicationResourceUnitsPer20Seconds: Int
    public var total: UsageCounters
    /// By app id (lowercased).
    public var apps: [String: UsageCounters]
    /// By tenant id.
    public var tenants: [String: UsageCounters]
}
