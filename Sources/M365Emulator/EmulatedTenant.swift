/// One tenant: identity, directory, registered apps, roles, settings and throttling state.
final class EmulatedTenant {
    let id: String
    let domain: String
    let displayName: String
    let directory: TenantDirectory
    var settings: TenantSettings
    var apps: [String: AppState] = [:]
    var roleAssignments: [RoleAssignment] = []
    /// Resource-unit buckets of the application+tenant pairs, by lowercased app id.
    var buckets: [String: TokenBucket] = [:]
    /// Graph usage by lowercased app id (admin API `usage`).
    var usage: [String: UsageCounters] = [:]
    var counters: [String: Int] = [:]
    /// Exchange Online mail flow: connectors and transport rules (admin API `InvokeCommand`).
    var exchange = ExchangeOrganization()
    /// Started Management Activity API subscriptions, by content type.
    var activitySubscriptions: Set<String> = []

    init(id: String, domain: String, displayName: String, directory: TenantDirectory, settings: TenantSettings) {
        self.id = id
        self.domain = domain
        self.displayName = displayName
        self.directory = directory
        self.settings = settings
    }

    func app(_ appID: String) -> AppState? { apps[appID.lowercased()] }

    func count(_ key: String, by n: Int = 1) { counters[key, default: 0] += n }

    /// Microsoft's tenant size classes for the application+tenant budget ("Microsoft Graph service-specific
    /// throttling limits", identity and access: S under 50 users 3,500, M 50–500 5,000, L above 500 8,000 RU
    /// per 10 s). Counts every user object ever created (deleted ones too): O(1) on every request.
    var defaultResourceUnitBudget: Int {
        let users = directory.users.count
        if users < 50 { return 3_500 }
        if users <= 500 { return 5_000 }
        return 8_000
    }

    /// The limit in force: the tenant's override, else its size class.
    var resourceUnitsPer10Seconds: Int { settings.resourceUnitsPer10Seconds ?? defaultResourceUnitBudget }
}

/// What `GET /_emulator/tenants` lists for each tenant.
public struct TenantInfo: Sendable, Codable, Equatable {
    public var id: String
    public var domain: String
    public var displayName: String
    public var users: Int
    public var groups: Int
    public var settings: TenantSettings
    public var apps: [AppRegistration]
    public var roleAssignments: [RoleAssignment]
}
