/// One tenant: identity, directory, registered apps, roles, settings and throttling state.
final class EmulatedTenant {
    let id: String
    let domain: String
    let displayName: String
    let directory: TenantDirectory
    var settings: TenantSettings
    var apps: [String: AppState] = [:]
    var roleAssignments: [RoleAssignment] = []
    var throttleWindows: [String: ThrottleWindow] = [:]
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

    /// Microsoft's tenant size tiers for the identity throttling budget (S < 50 users, M ≤ 500, L above).
    var defaultResourceUnitBudget: Int {
        let users = directory.users.count
        if users < 50 { return 3_500 }
        if users <= 500 { return 5_000 }
        return 8_000
    }
}

/// Resource units spent by one app in one tenant in the current 10-second window.
struct ThrottleWindow {
    var start: Double
    var used: Int
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
