import Logging
import TenantSyncCore

/// What the daemon implements to answer `io.tenantsync.Control` calls.
///
/// The server decodes and validates the parameters, checks the caller's
/// credentials, and encodes replies; a handler only does the work. Throw
/// `TenantSyncError` (mapped by code, see ``ControlError/from(_:)``) or a
/// ``VarlinkError`` made with ``ControlError``; any other error becomes
/// `io.tenantsync.Control.Internal` and is logged.
///
/// Streaming methods get a ``ControlUpdates``: when the client asked for
/// `more`, each `send` is one reply with `continues: true` and the returned
/// value is the last reply. When it did not, `send` does nothing and the
/// method should return the current state at once instead of waiting.
///
/// No method has a default body: a handler that lacks one does not compile. A
/// method the daemon cannot serve in some setup throws
/// `VarlinkError.methodNotImplemented` itself.
public protocol ControlHandler: Sendable {
    func status(context: ControlContext) async throws -> DaemonStatus
    /// One page of the accounts the request's filters select.
    func listAccounts(_ request: ListAccountsRequest, context: ControlContext) async throws -> AccountPage
    func account(id: Int64, context: ControlContext) async throws -> AccountDetail
    func provision(_ request: ProvisionRequest, context: ControlContext, updates: ControlUpdates<ProvisionStep>) async throws -> ProvisionStep
    func continueProvisioning(_ request: ContinueProvisioningRequest, context: ControlContext, updates: ControlUpdates<ProvisionStep>) async throws -> ProvisionStep
    func renew(_ request: RenewRequest, context: ControlContext, updates: ControlUpdates<ProvisionStep>) async throws -> ProvisionStep
    func deprovision(id: Int64, context: ControlContext) async throws -> AccountRef
    /// Inline Mode: upgrades an inbound-only account to inbound and outbound.
    func upgradeOutbound(id: Int64, context: ControlContext) async throws -> ProvisionStep
    /// Inline Mode: the optional activity-data consent (Office 365 Management Activity API).
    func grantActivityData(_ request: GrantActivityDataRequest, context: ControlContext, updates: ControlUpdates<ProvisionStep>) async throws -> ProvisionStep
    func sync(_ request: SyncRequest, context: ControlContext, updates: ControlUpdates<SyncProgress>) async throws -> SyncProgress
    func extend(tenant: String, context: ControlContext, updates: ControlUpdates<ExtendProgress>) async throws -> ExtendProgress
    /// Applies the tenant's held run; throws `NoHeldSync` when there is none.
    func confirmHeldSync(tenant: String, context: ControlContext) async throws -> SyncRunInfo
    /// Drops the tenant's held run; throws `NoHeldSync` when there is none.
    func discardHeldSync(tenant: String, context: ControlContext) async throws -> SyncRunInfo
    func listTargets(tenant: String, context: ControlContext) async throws -> TargetList
    func addTargets(_ request: AddTargetsRequest, context: ControlContext) async throws -> TargetsAdded
    func removeTargets(_ request: RemoveTargetsRequest, context: ControlContext) async throws -> TargetsRemoved
    func searchGroups(tenant: String, prefix: String, context: ControlContext) async throws -> [GroupMatch]
    /// One page of the alerts the request's filters select, newest first.
    func listAlerts(_ request: ListAlertsRequest, context: ControlContext) async throws -> AlertPage
    func acknowledgeAlert(id: Int64, context: ControlContext) async throws -> AlertInfo
    /// Re-reads the configuration; returns what changed, in words.
    func reload(context: ControlContext) async throws -> [String]
    /// The tenant's synced directory: counts, newest full and delta runs, delta link ages.
    func directory(tenant: String, context: ControlContext) async throws -> DirectoryInfo
    /// Whether a user is protected; "not protected" is an answer, not an error.
    func directoryUser(_ request: DirectoryUserRequest, context: ControlContext) async throws -> DirectoryUserInfo
    /// The daemons sharing the database, by name, with the leases each holds; this daemon alone on SQLite.
    func listNodes(context: ControlContext) async throws -> [NodeInfo]
}

/// Who is calling and how to log about it.
public struct ControlContext: Sendable {
    public var peer: PeerCredentials
    /// The method, fully qualified.
    public var method: String
    /// A logger with `peer.uid`, `peer.pid` and `control.method` metadata.
    public var logger: Logger

    public init(peer: PeerCredentials, method: String, logger: Logger) {
        self.peer = peer
        self.method = method
        self.logger = logger
    }
}

/// Sends intermediate replies of a streaming call.
public struct ControlUpdates<Value: Encodable & Sendable>: Sendable {
    /// Whether the client asked for `more`; when false, ``send(_:)`` does nothing.
    public let isStreaming: Bool
    private let sink: @Sendable (Value) async throws -> Void

    public init(isStreaming: Bool, sink: @escaping @Sendable (Value) async throws -> Void) {
        self.isStreaming = isStreaming
        self.sink = sink
    }

    /// Sends one reply with `continues: true`; throws once the client is gone.
    public func send(_ value: Value) async throws {
        guard isStreaming else { return }
        try await sink(value)
    }

    /// Updates that go nowhere, for callers that run a method without a client.
    public static var discarding: ControlUpdates<Value> {
        ControlUpdates(isStreaming: false) { _ in }
    }
}
