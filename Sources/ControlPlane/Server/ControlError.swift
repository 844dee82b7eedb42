import TenantSyncCore

/// An `io.tenantsync.Control` error with the parameters the interface declares.
///
/// Handlers may throw these directly, or throw `TenantSyncError`, which is
/// mapped by its `code` and context keys (see ``init(_:)-swift.init``).
public enum ControlError {
    /// The interface all these errors belong to.
    public static let interface = "io.tenantsync.Control"

    static func make(_ name: String, _ parameters: [String: VarlinkValue?]) -> VarlinkError {
        VarlinkError(name: "\(interface).\(name)", parameters: parameters.compactMapValues { $0 })
    }

    public static func accountNotFound(id: Int64? = nil, tenant: String? = nil, service: ServiceKind? = nil, message: String) -> VarlinkError {
        make("AccountNotFound", ["id": id.map(VarlinkValue.int), "tenant": tenant.map(VarlinkValue.string), "service": service.map { .string($0.rawValue) }, "message": .string(message)])
    }

    public static func tenantNotFound(tenant: String, message: String) -> VarlinkError {
        make("TenantNotFound", ["tenant": .string(tenant), "message": .string(message)])
    }

    public static func permissionDenied(uid: UInt32, group: String?) -> VarlinkError {
        let message = group.map { "only root and members of the group \($0) may use the control socket" }
            ?? "only root may use the control socket"
        return make("PermissionDenied", ["uid": .int(Int64(uid)), "group": group.map(VarlinkValue.string), "message": .string(message)])
    }

    public static func invalidArgument(_ argument: String?, message: String) -> VarlinkError {
        make("InvalidArgument", ["argument": argument.map(VarlinkValue.string), "message": .string(message)])
    }

    public static func temporaryFailure(message: String) -> VarlinkError {
        make("TemporaryFailure", ["message": .string(message)])
    }

    public static func internalError(message: String = "internal error; the daemon's journal has the details") -> VarlinkError {
        make("Internal", ["message": .string(message)])
    }

    static func messageTooLarge(limit: Int) -> VarlinkError {
        make("MessageTooLarge", ["limit": .int(Int64(limit))])
    }

    /// Maps a domain error to its interface error.
    ///
    /// Context keys read (all optional): `account.id`, `tenant.id`, `tenant`,
    /// `account.service`, `account.state`, `scope.requested`, `scope.current` (or
    /// `scope.tenant`), `targets.limit` (or `targets.maximum`), `targets.requested`
    /// (or `targets.adding`), `group.prefix` (or `prefix`), `users`
    /// (comma-separated UPNs) or `user.upn`, `grant.name`, `oauth.error`,
    /// `aadsts.code`, `provisioning.step`, `argument`.
    public static func from(_ error: TenantSyncError) -> VarlinkError {
        let context = error.context
        func string(_ key: String) -> VarlinkValue? { context[key].map(VarlinkValue.string) }
        func int(_ key: String) -> VarlinkValue? { context[key].flatMap { Int64($0) }.map(VarlinkValue.int) }
        let message = VarlinkValue.string(error.message)
        switch error.code {
        case .accountNotFound:
            return make("AccountNotFound", ["id": int("account.id"), "tenant": string("tenant") ?? string("tenant.id"), "service": string("account.service"), "message": message])
        case .tenantNotFound:
            return make("TenantNotFound", ["tenant": string("tenant") ?? string("tenant.id") ?? .string(""), "message": message])
        case .accountExists:
            return make("AccountExists", ["id": int("account.id"), "tenant_id": string("tenant.id"), "service": string("account.service"), "state": string("account.state"), "message": message])
        case .scopeConflict:
            // The second keys are the ones `ScopeRules` in the core sets.
            return make("ScopeConflict", ["tenant_id": string("tenant.id"), "requested": string("scope.requested"), "current": string("scope.current") ?? string("scope.tenant"), "message": message])
        case .syncNotAllowedForSelectedScope:
            return make("SyncNotAllowedForSelectedScope", ["tenant_id": string("tenant.id"), "message": message])
        case .tooManyTargets:
            let limit = int("targets.limit") ?? int("targets.maximum") ?? .int(Int64(SyncScope.maximumSelectedTargets))
            return make("TooManyTargets", ["tenant_id": string("tenant.id"), "limit": limit, "requested": int("targets.requested") ?? int("targets.adding"), "message": message])
        case .groupPrefixTooShort:
            return make("GroupPrefixTooShort", ["prefix": string("group.prefix") ?? string("prefix") ?? .string(""), "minimum": .int(Int64(SyncScope.minimumGroupPrefixLength)), "message": message])
        case .userNotFound:
            let users = (context["users"] ?? context["user.upn"] ?? "").split(separator: ",").map { VarlinkValue.string(String($0)) }
            return make("UserNotFound", ["users": .array(users), "message": message])
        case .invalidArgument:
            return make("InvalidArgument", ["argument": string("argument"), "message": message])
        case .storeUnavailable:
            return make("TemporaryFailure", ["message": message])
        case TenantSyncError.Code(rawValue: "ConsentDeclined"):
            return make("ConsentDeclined", ["account_id": int("account.id"), "grant": string("grant.name"), "error": string("oauth.error"), "aadsts_code": int("aadsts.code"), "message": message])
        case TenantSyncError.Code(rawValue: "ProvisioningFailed"):
            return make("ProvisioningFailed", ["account_id": int("account.id"), "step": string("provisioning.step"), "message": message])
        case TenantSyncError.Code(rawValue: "PermissionDenied"):
            return make("PermissionDenied", ["uid": int("peer.uid") ?? .int(-1), "group": string("control.group"), "message": message])
        case TenantSyncError.Code(rawValue: "TemporaryFailure"):
            return make("TemporaryFailure", ["message": message])
        case .noHeldSync:
            return make("NoHeldSync", ["tenant_id": string("tenant.id") ?? .string(""), "message": message])
        default:
            return make("Internal", ["message": message])
        }
    }
}
