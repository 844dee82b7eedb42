import ControlPlane
import TenantSyncCore

/// A base for test doubles that answer only the methods a test needs: every other method answers
/// `org.varlink.service.MethodNotImplemented`, as the server does for a method it does not know.
///
/// The production protocol has no such defaults (a missing method there must not compile); a double
/// declares itself partial by conforming to this one instead.
protocol PartialControlHandler: ControlHandler {}

extension PartialControlHandler {
    private func notImplemented(_ context: ControlContext) -> VarlinkError {
        VarlinkError.methodNotImplemented(context.method)
    }

    func status(context: ControlContext) async throws -> DaemonStatus { throw notImplemented(context) }
    func listAccounts(_ request: ListAccountsRequest, context: ControlContext) async throws -> AccountPage { throw notImplemented(context) }
    func account(id: Int64, context: ControlContext) async throws -> AccountDetail { throw notImplemented(context) }
    func provision(_ request: ProvisionRequest, context: ControlContext, updates: ControlUpdates<ProvisionStep>) async throws -> ProvisionStep { throw notImplemented(context) }
    func continueProvisioning(_ request: ContinueProvisioningRequest, context: ControlContext, updates: ControlUpdates<ProvisionStep>) async throws -> ProvisionStep { throw notImplemented(context) }
    func renew(_ request: RenewRequest, context: ControlContext, updates: ControlUpdates<ProvisionStep>) async throws -> ProvisionStep { throw notImplemented(context) }
    func deprovision(id: Int64, context: ControlContext) async throws -> AccountRef { throw notImplemented(context) }
    func upgradeOutbound(id: Int64, context: ControlContext) async throws -> ProvisionStep { throw notImplemented(context) }
    func grantActivityData(_ request: GrantActivityDataRequest, context: ControlContext, updates: ControlUpdates<ProvisionStep>) async throws -> ProvisionStep { throw notImplemented(context) }
    func sync(_ request: SyncRequest, context: ControlContext, updates: ControlUpdates<SyncProgress>) async throws -> SyncProgress { throw notImplemented(context) }
    func extend(tenant: String, context: ControlContext, updates: ControlUpdates<ExtendProgress>) async throws -> ExtendProgress { throw notImplemented(context) }
    func confirmHeldSync(tenant: String, context: ControlContext) async throws -> SyncRunInfo { throw notImplemented(context) }
    func discardHeldSync(tenant: String, context: ControlContext) async throws -> SyncRunInfo { throw notImplemented(context) }
    func listTargets(tenant: String, context: ControlContext) async throws -> TargetList { throw notImplemented(context) }
    func addTargets(_ request: AddTargetsRequest, context: ControlContext) async throws -> TargetsAdded { throw notImplemented(context) }
    func removeTargets(_ request: RemoveTargetsRequest, context: ControlContext) async throws -> TargetsRemoved { throw notImplemented(context) }
    func searchGroups(tenant: String, prefix: String, context: ControlContext) async throws -> [GroupMatch] { throw notImplemented(context) }
    func listAlerts(_ request: ListAlertsRequest, context: ControlContext) async throws -> AlertPage { throw notImplemented(context) }
    func acknowledgeAlert(id: Int64, context: ControlContext) async throws -> AlertInfo { throw notImplemented(context) }
    func reload(context: ControlContext) async throws -> [String] { throw notImplemented(context) }
    func directory(tenant: String, context: ControlContext) async throws -> DirectoryInfo { throw notImplemented(context) }
    func directoryUser(_ request: DirectoryUserRequest, context: ControlContext) async throws -> DirectoryUserInfo { throw notImplemented(context) }
    func listNodes(context: ControlContext) async throws -> [NodeInfo] { throw notImplemented(context) }
}
