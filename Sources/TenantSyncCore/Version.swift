/// The version all tenantsync executables report.
public enum TenantSyncVersion {
    public static let current = "0.1.0"
}
