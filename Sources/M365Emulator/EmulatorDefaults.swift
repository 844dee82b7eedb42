/// Values the emulator uses unless told otherwise; documented in README.md.
public enum EmulatorDefaults {
    /// The application (client) id of the product's multi-tenant app, registered in every tenant.
    public static let clientID = "5f1e2c3a-7b4d-4e8f-9a0b-1c2d3e4f5a6b"
    /// The client secret of that app. Emulator-only; never a real credential.
    public static let clientSecret = "emulator-client-secret"
    /// Port of `tenantsync-emulator` when `--port` is not given (0: a free port, printed on start).
    public static let port = 0
    /// Generated tenants.
    public static let tenants = 2
    /// Users per generated tenant.
    public static let usersPerTenant = 50
    /// Groups per generated tenant.
    public static let groupsPerTenant = 10
    /// Generator seed.
    public static let seed: UInt64 = 1
}
