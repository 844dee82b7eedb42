extension TenantSyncError.Code {
    /// The grant is invalid; an administrator must renew it (`tenantsyncctl renew`).
    public static let grantInvalid = TenantSyncError.Code(rawValue: "GrantInvalid")
    /// The grant has no token set yet, or not one that can be used now.
    public static let tokenUnavailable = TenantSyncError.Code(rawValue: "TokenUnavailable")
    /// A token request to Microsoft failed.
    public static let tokenRequestFailed = TenantSyncError.Code(rawValue: "TokenRequestFailed")
    /// No grant with that id.
    public static let grantNotFound = TenantSyncError.Code(rawValue: "GrantNotFound")
}
