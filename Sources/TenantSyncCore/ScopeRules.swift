/// The sync-scope rules (one shared scope per tenant, a bounded number of selected targets), as pure checks.
public enum ScopeRules {
    /// Refuses a scope for `service` that differs from the scope shared by the tenant's other accounts.
    ///
    /// Exchange Online, SharePoint Online and OneDrive of one tenant must use the
    /// same scope; Inline Mode and Teams Chat are not part of it.
    public static func checkScope(
        _ requested: SyncScope, for service: ServiceKind, tenantScope: SyncScope, existingServices: [ServiceKind]
    ) throws(TenantSyncError) {
        guard service.sharesDirectoryScope else { return }
        let sharing = existingServices.filter { $0.sharesDirectoryScope && $0 != service }
        guard !sharing.isEmpty, requested != tenantScope else { return }
        throw TenantSyncError(
            .scopeConflict,
            "Exchange Online, SharePoint Online and OneDrive must use the same sync scope; this tenant's "
                + "\(sharing.map(\.displayName).joined(separator: ", ")) use '\(tenantScope.rawValue)', so "
                + "\(service.displayName) cannot use '\(requested.rawValue)'. "
                + (tenantScope == .selected
                    ? "Use --scope selected, or extend the tenant to all targets first (tenantsyncctl extend)."
                    : "Use --scope all."),
            context: ["scope.tenant": tenantScope.rawValue, "scope.requested": requested.rawValue, "account.service": service.rawValue]
        )
    }

    /// Refuses a selected scope that would hold more than the console's limit.
    public static func checkSelectedCount(current: Int, adding: Int) throws(TenantSyncError) {
        let total = current + adding
        guard total <= SyncScope.maximumSelectedTargets else {
            throw TenantSyncError(
                .tooManyTargets,
                "A selected scope holds at most \(SyncScope.maximumSelectedTargets) users; this would make \(total). "
                    + "Remove users first, or extend the tenant to all targets (tenantsyncctl extend).",
                context: ["targets.current": "\(current)", "targets.adding": "\(adding)", "targets.maximum": "\(SyncScope.maximumSelectedTargets)"]
            )
        }
    }

    /// Refuses a group-name prefix shorter than the console allows.
    public static func checkGroupPrefix(_ prefix: String) throws(TenantSyncError) {
        guard prefix.count >= SyncScope.minimumGroupPrefixLength else {
            throw TenantSyncError(
                .groupPrefixTooShort,
                "Group search needs at least \(SyncScope.minimumGroupPrefixLength) characters of the group name; got \"\(prefix)\".",
                context: ["prefix": prefix, "prefix.minimum": "\(SyncScope.minimumGroupPrefixLength)"]
            )
        }
    }

    /// Refuses a manual or scheduled sync of a selected-scope tenant.
    public static func checkSyncAllowed(tenantScope: SyncScope, tenantDomain: String) throws(TenantSyncError) {
        guard tenantScope == .all else {
            throw TenantSyncError(
                .syncNotAllowedForSelectedScope,
                "\(tenantDomain) protects selected users only; selected-scope accounts get no manual and no scheduled sync. "
                    + "Update the selected users with 'tenantsyncctl targets', or extend to all targets with "
                    + "'tenantsyncctl extend --tenant \(tenantDomain)'.",
                context: ["tenant.domain": tenantDomain]
            )
        }
    }
}
