/// How an emulator starts: where it listens, what it generates and how it behaves by default.
public struct EmulatorConfiguration: Sendable {
    /// Loopback address to bind (`127.0.0.1` or `::1`).
    public var host: String
    /// Port; 0 picks a free one (read it back from the base URL).
    public var port: Int
    /// Number of generated tenants.
    public var tenants: Int
    /// Users generated in each tenant.
    public var usersPerTenant: Int
    /// Groups generated in each tenant.
    public var groupsPerTenant: Int
    /// Seed of the generator: the same seed gives the same tenants, users and groups.
    public var seed: UInt64
    /// Client id of the product's multi-tenant app, registered in every tenant.
    public var clientID: String
    /// Its client secret.
    public var clientSecret: String
    /// Whether the product app starts consented in every tenant.
    public var productAppConsented: Bool
    /// Settings every tenant starts with.
    public var tenantSettings: TenantSettings
    /// How many requests the request log keeps.
    public var requestLogLimit: Int
    /// Time every request waits before it is answered (a round trip to Microsoft); a tenant's
    /// `TenantSettings.latencyMilliseconds` overrides it. An async sleep: concurrent requests overlap.
    public var latency: Duration
    /// Resource units per 20 s per app across all tenants (Microsoft's identity and access limit: 150,000).
    public var applicationResourceUnitsPer20Seconds: Int
    /// Start of a manual clock (seconds since 1970) that moves only through `advanceClock`; nil follows the wall
    /// clock. Tests that need throttling buckets to refill (or not) use it instead of sleeping.
    public var manualClockStart: Double?

    public init(host: String = "127.0.0.1", port: Int = 0, tenants: Int = EmulatorDefaults.tenants,
                usersPerTenant: Int = EmulatorDefaults.usersPerTenant,
                groupsPerTenant: Int = EmulatorDefaults.groupsPerTenant, seed: UInt64 = EmulatorDefaults.seed,
                clientID: String = EmulatorDefaults.clientID, clientSecret: String = EmulatorDefaults.clientSecret,
                productAppConsented: Bool = true, tenantSettings: TenantSettings = TenantSettings(),
                requestLogLimit: Int = 10_000, latency: Duration = .zero,
                applicationResourceUnitsPer20Seconds: Int = 150_000, manualClockStart: Double? = nil) {
        self.host = host
        self.port = port
        self.tenants = tenants
        self.usersPerTenant = usersPerTenant
        self.groupsPerTenant = groupsPerTenant
        self.seed = seed
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.productAppConsented = productAppConsented
        self.tenantSettings = tenantSettings
        self.requestLogLimit = requestLogLimit
        self.latency = latency
        self.applicationResourceUnitsPer20Seconds = applicationResourceUnitsPer20Seconds
        self.manualClockStart = manualClockStart
    }
}
