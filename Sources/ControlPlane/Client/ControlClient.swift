import NIOCore
import NIOPosix

/// A typed client of `io.tenantsync.Control`, used by tenantsyncctl and tests.
public struct ControlClient {
    /// The socket path used when none is given: `$TENANTSYNC_SOCKET`, else `/run/tenantsync/control`.
    public static func defaultSocketPath(environment: [String: String]) -> String {
        if let path = environment["TENANTSYNC_SOCKET"], !path.isEmpty { return path }
        return "/run/tenantsync/control"
    }

    public let connection: VarlinkClient

    /// Connects, runs `body`, and closes.
    public static func withConnection<Result>(
        to path: String,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        _ body: (ControlClient) async throws -> Result
    ) async throws -> Result {
        try await VarlinkClient.withConnection(to: path, eventLoopGroup: eventLoopGroup) { connection in
            try await body(ControlClient(connection: connection))
        }
    }

    private func method(_ name: String) -> String { "\(ControlInterface.name).\(name)" }

    public func info() async throws -> VarlinkServiceInfo {
        try await connection.call("\(ControlInterface.serviceName).GetInfo", parameters: VarlinkEmpty())
    }

    public func interfaceDescription(_ interface: String = ControlInterface.name) async throws -> String {
        let reply: DescriptionReply = try await connection.call(
            "\(ControlInterface.serviceName).GetInterfaceDescription", parameters: InterfaceParameters(interface: interface))
        return reply.description
    }

    public func status() async throws -> DaemonStatus {
        try await connection.call(method("Status"), parameters: VarlinkEmpty())
    }

    /// One page of the accounts the request selects; `next` reads the following one.
    public func listAccounts(_ request: ListAccountsRequest = ListAccountsRequest()) async throws -> AccountPage {
        try await connection.call(method("ListAccounts"), parameters: request)
    }

    public func account(id: Int64) async throws -> AccountDetail {
        let reply: AccountReply = try await connection.call(method("GetAccount"), parameters: IDParameters(id: id))
        return reply.account
    }

    /// Starts provisioning; with `onStep`, streams steps until one needs input or provisioning ends.
    public func provision(_ request: ProvisionRequest, onStep: ((ProvisionStep) async throws -> Void)? = nil) async throws -> ProvisionStep {
        try await steps(method("Provision"), request, onStep: onStep)
    }

    public func continueProvisioning(_ request: ContinueProvisioningRequest, onStep: ((ProvisionStep) async throws -> Void)? = nil) async throws -> ProvisionStep {
        try await steps(method("ContinueProvisioning"), request, onStep: onStep)
    }

    public func renew(_ request: RenewRequest, onStep: ((ProvisionStep) async throws -> Void)? = nil) async throws -> ProvisionStep {
        try await steps(method("Renew"), request, onStep: onStep)
    }

    /// Inline Mode: upgrades an inbound-only account to inbound and outbound protection.
    public func upgradeOutbound(id: Int64) async throws -> ProvisionStep {
        let reply: StepReply = try await connection.call(method("UpgradeOutbound"), parameters: IDParameters(id: id))
        return reply.step
    }

    /// Inline Mode: the activity-data consent; with `onStep`, streams the consent step.
    public func grantActivityData(_ request: GrantActivityDataRequest, onStep: ((ProvisionStep) async throws -> Void)? = nil) async throws -> ProvisionStep {
        try await steps(method("GrantActivityData"), request, onStep: onStep)
    }

    private func steps<P: Encodable>(_ name: String, _ parameters: P, onStep: ((ProvisionStep) async throws -> Void)?) async throws -> ProvisionStep {
        if let onStep {
            let reply: StepReply = try await connection.callStreaming(name, parameters: parameters) { try await onStep($0.step) }
            return reply.step
        }
        let reply: StepReply = try await connection.call(name, parameters: parameters)
        return reply.step
    }

    public func deprovision(id: Int64) async throws -> AccountRef {
        let reply: DeprovisionReply = try await connection.call(method("Deprovision"), parameters: IDParameters(id: id))
        return reply.account
    }

    /// Starts a sync; with `onProgress`, streams progress until the run ends and returns the last.
    public func sync(_ request: SyncRequest, onProgress: ((SyncProgress) async throws -> Void)? = nil) async throws -> SyncProgress {
        if let onProgress {
            let reply: ProgressReply = try await connection.callStreaming(method("Sync"), parameters: request) { try await onProgress($0.progress) }
            return reply.progress
        }
        let reply: ProgressReply = try await connection.call(method("Sync"), parameters: request)
        return reply.progress
    }

    /// Applies the tenant's run held by the mass-deletion guard.
    public func confirmHeldSync(tenant: String) async throws -> SyncRunInfo {
        let reply: RunReply = try await connection.call(method("ConfirmHeldSync"), parameters: TenantParameters(tenant: tenant))
        return reply.run
    }

    /// Drops the removals of the tenant's run held by the mass-deletion guard.
    public func discardHeldSync(tenant: String) async throws -> SyncRunInfo {
        let reply: RunReply = try await connection.call(method("DiscardHeldSync"), parameters: TenantParameters(tenant: tenant))
        return reply.run
    }

    public func extend(tenant: String, onProgress: ((ExtendProgress) async throws -> Void)? = nil) async throws -> ExtendProgress {
        let parameters = TenantParameters(tenant: tenant)
        if let onProgress {
            return try await connection.callStreaming(method("Extend"), parameters: parameters, onUpdate: onProgress)
        }
        return try await connection.call(method("Extend"), parameters: parameters)
    }

    public func listTargets(tenant: String) async throws -> TargetList {
        try await connection.call(method("ListTargets"), parameters: TenantParameters(tenant: tenant))
    }

    public func addTargets(_ request: AddTargetsRequest) async throws -> TargetsAdded {
        try await connection.call(method("AddTargets"), parameters: request)
    }

    public func removeTargets(_ request: RemoveTargetsRequest) async throws -> TargetsRemoved {
        try await connection.call(method("RemoveTargets"), parameters: request)
    }

    public func searchGroups(tenant: String, prefix: String) async throws -> [GroupMatch] {
        let reply: GroupsReply = try await connection.call(method("SearchGroups"), parameters: SearchGroupsParameters(tenant: tenant, prefix: prefix))
        return reply.groups
    }

    /// One page of the alerts the request selects, newest first; `next` reads the following one.
    public func listAlerts(_ request: ListAlertsRequest = ListAlertsRequest()) async throws -> AlertPage {
        try await connection.call(method("ListAlerts"), parameters: request)
    }

    public func acknowledgeAlert(id: Int64) async throws -> AlertInfo {
        let reply: AlertReply = try await connection.call(method("AcknowledgeAlert"), parameters: IDParameters(id: id))
        return reply.alert
    }

    public func reload() async throws -> [String] {
        let reply: ReloadReply = try await connection.call(method("Reload"), parameters: VarlinkEmpty())
        return reply.changed
    }

    /// The tenant's synced directory: counts, newest runs, delta link ages.
    public func directory(tenant: String) async throws -> DirectoryInfo {
        let reply: DirectoryReply = try await connection.call(method("GetDirectory"), parameters: TenantParameters(tenant: tenant))
        return reply.directory
    }

    /// Whether a user is protected, with one page of its groups.
    public func directoryUser(_ request: DirectoryUserRequest) async throws -> DirectoryUserInfo {
        let reply: DirectoryUserReply = try await connection.call(method("GetDirectoryUser"), parameters: request)
        return reply.user
    }

    /// The daemons sharing the database, with the leases each holds.
    public func listNodes() async throws -> [NodeInfo] {
        let reply: NodesReply = try await connection.call(method("ListNodes"), parameters: VarlinkEmpty())
        return reply.nodes
    }
}
