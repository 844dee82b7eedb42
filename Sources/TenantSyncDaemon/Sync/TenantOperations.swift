import Foundation
import Logging
import MicrosoftCloud
import TenantSyncCore

/// What an operator does to a tenant's directory protection: sync, extend, and the selected targets.
///
/// Every scope and target rule (``ScopeRules``) is checked here before anything changes, so the
/// control socket only translates calls and errors.
public struct TenantOperations: Sendable {
    let store: any AccountStore & DirectoryStore
    /// Unpaced: each operation paces its own copy in its tenant's bucket (``GraphClient/paced(tenantID:priority:directory:)``).
    let graph: GraphClient
    let tokens: any GraphTokenSource
    let coordinator: SyncCoordinator
    let now: @Sendable () -> Date
    let logger: Logger

    public init(
        store: any AccountStore & DirectoryStore, graph: GraphClient, tokens: any GraphTokenSource, coordinator: SyncCoordinator,
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.store = store
        self.graph = graph
        self.tokens = tokens
        self.coordinator = coordinator
        self.now = now
        self.logger = logger
    }

    /// Finds a tenant by id or domain, or fails with `tenantNotFound`.
    public func tenant(_ idOrDomain: String) async throws -> Tenant {
        guard let tenant = try await store.tenant(idOrDomain: idOrDomain) else {
            throw TenantSyncError(.tenantNotFound, "No tenant \(idOrDomain) is known; provision a service for it first.", context: ["tenant": idOrDomain])
        }
        return tenant
    }

    /// Queues a manual sync; refused for a selected-scope tenant.
    ///
    /// `forceFull` reads everything again: the stored delta links are not used (the run's own replace
    /// them when it commits, so a run that fails midway leaves them as they were). A full request does
    /// not join a delta run already going; it queues behind it.
    ///
    /// - Returns: whether the request joined a run already going.
    @discardableResult
    public func requestManualSync(tenant idOrDomain: String, service: ServiceKind?, forceFull: Bool = false) async throws -> (tenant: Tenant, coalesced: Bool) {
        let tenant = try await tenant(idOrDomain)
        do {
            try ScopeRules.checkSyncAllowed(tenantScope: tenant.syncScope, tenantDomain: tenant.domain)
        } catch {
            // The interface error names the tenant by id (`tenant_id`), for automation.
            throw error.adding("tenant.id", tenant.id)
        }
        if let service {
            guard try await store.account(tenantID: tenant.id, service: service) != nil else {
                throw TenantSyncError(
                    .accountNotFound, "\(tenant.domain) has no \(service.displayName) service account.",
                    context: ["tenant.domain": tenant.domain, "account.service": service.rawValue]
                )
            }
        }
        let coalesced = await coordinator.submit(.init(tenantID: tenant.id, service: service, trigger: .manual, forceFull: forceFull))
        logger.info("Manual sync requested", metadata: ["tenant.id": "\(tenant.id)", "sync.coalesced": "\(coalesced)", "sync.full": "\(forceFull)"])
        return (tenant, coalesced)
    }

    /// Switches the tenant's shared scope to `all` and queues a full sync.
    @discardableResult
    public func extendToAllTargets(tenant idOrDomain: String) async throws -> Tenant {
        var tenant = try await tenant(idOrDomain)
        let switched = tenant.syncScope != .all
        if switched {
            try await store.setSyncScope(tenantID: tenant.id, scope: .all)
            tenant.syncScope = .all
        }
        await coordinator.submit(.init(tenantID: tenant.id, trigger: .extend, forceFull: true))
        var metadata: Logger.Metadata = ["tenant.id": "\(tenant.id)", "tenant.domain": "\(tenant.domain)"]
        // The catalog entry announces a change of scope; a resync of an all-scope tenant is no such event.
        if switched { metadata["message.id"] = "\(MessageID.scopeExtended)" }
        logger.info("Scope extended to all targets", metadata: metadata)
        return tenant
    }

    /// Groups whose display name starts with `prefix` (at least three characters).
    public func searchGroups(tenant idOrDomain: String, prefix: String) async throws -> [DirectoryGroup] {
        try ScopeRules.checkGroupPrefix(prefix)
        let tenant = try await tenant(idOrDomain)
        let graph = try await self.graph.paced(tenantID: tenant.id, priority: .normal, directory: store)
        let escaped = prefix.replacingOccurrences(of: "'", with: "''")
        let filter = "startswith(displayName,'\(escaped)')".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        var groups: [DirectoryGroup] = []
        let first = graph.url("/groups?$filter=\(filter)&$select=id,displayName,mail&$top=999")
        var trail = GraphPageTrail(first: first)
        var next: String? = first
        let lease = GraphTokenLease(tenantID: tenant.id, source: tokens)
        while let url = next {
            let page = try await lease.call { try await graph.page(url, as: GraphGroup.self, accessToken: $0) }
            groups += page.value.map { DirectoryGroup(id: $0.id, displayName: $0.displayName, mail: $0.mail) }
            next = try trail.next(after: page.nextLink, from: url)
        }
        return groups
    }

    /// Adds users to the selected scope: by exact UPN (verified against the directory) or every user of a group.
    ///
    /// All-or-nothing: an unknown UPN or a total above 100 changes nothing.
    @discardableResult
    public func addSelectedTargets(tenant idOrDomain: String, userPrincipalNames: [String], groupIDs: [String]) async throws -> [SelectedTarget] {
        // Every name and id is checked before the first Graph call: a bad one changes nothing.
        let userSegments = try userPrincipalNames.map { upn in
            guard GraphPathSegment.isUserPrincipalName(upn) else {
                throw TenantSyncError(
                    .invalidArgument, "\(upn.debugDescription) is not a user principal name (name@domain).", context: ["user.upn": upn.debugDescription]
                )
            }
            return try GraphPathSegment.userKey(upn)
        }
        let groupSegments = try groupIDs.map(GraphPathSegment.groupID)
        let tenant = try await tenant(idOrDomain)
        let lease = GraphTokenLease(tenantID: tenant.id, source: tokens)
        let graph = try await self.graph.paced(tenantID: tenant.id, priority: .normal, directory: store)
        var found: [String: SelectedTarget] = [:]
        for (upn, segment) in zip(userPrincipalNames, userSegments) {
            let path = "/users/\(segment)?$select=id,userPrincipalName"
            do {
                let user = try await lease.call { try await graph.object(graph.url(path), as: GraphUser.self, accessToken: $0) }
                // Graph finds users case-insensitively; "exact" means the name matches, not just a prefix.
                guard let name = user.userPrincipalName, name.lowercased() == upn.lowercased() else { throw userNotFound(upn, tenant) }
                found[name.lowercased()] = SelectedTarget(tenantID: tenant.id, userPrincipalName: name, userID: user.id, source: .upn, addedAt: now())
            } catch let error as GraphError where error.kind == .notFound {
                throw userNotFound(upn, tenant)
            }
        }
        for (groupID, segment) in zip(groupIDs, groupSegments) {
            let first = graph.url("/groups/\(segment)/transitiveMembers/microsoft.graph.user?$select=id,userPrincipalName&$top=999")
            var trail = GraphPageTrail(first: first)
            var next: String? = first
            while let url = next {
                let page: GraphPage<GraphUser>
                do {
                    page = try await lease.call { try await graph.page(url, as: GraphUser.self, accessToken: $0) }
                } catch let error as GraphError where error.kind == .notFound {
                    throw TenantSyncError(.invalidArgument, "No group \(groupID) in \(tenant.domain).", context: ["group.id": groupID])
                }
                for user in page.value {
                    guard let name = user.userPrincipalName else { continue }
                    found[name.lowercased()] = found[name.lowercased()]
                        ?? SelectedTarget(tenantID: tenant.id, userPrincipalName: name, userID: user.id, source: .group, addedAt: now())
                }
                next = try trail.next(after: page.nextLink, from: url)
            }
        }
        let existing = Set(try await store.selectedTargets(tenantID: tenant.id).map { $0.userPrincipalName.lowercased() })
        let new = found.filter { !existing.contains($0.key) }.map(\.value).sorted { $0.userPrincipalName < $1.userPrincipalName }
        do {
            try ScopeRules.checkSelectedCount(current: existing.count, adding: new.count)
        } catch {
            throw error.adding("tenant.id", tenant.id)
        }
        try await store.addSelectedTargets(new)
        return new
    }

    /// Removes users from the selected scope.
    public func removeSelectedTargets(tenant idOrDomain: String, userPrincipalNames: [String]) async throws {
        let tenant = try await tenant(idOrDomain)
        try await store.removeSelectedTargets(tenantID: tenant.id, userPrincipalNames: userPrincipalNames)
    }

    /// Removes selected users who no longer exist in the directory (the console's "Update Synchronized Users").
    public func pruneSelectedTargets(tenant idOrDomain: String) async throws -> [String] {
        let tenant = try await tenant(idOrDomain)
        let lease = GraphTokenLease(tenantID: tenant.id, source: tokens)
        let graph = try await self.graph.paced(tenantID: tenant.id, priority: .normal, directory: store)
        var gone: [String] = []
        for target in try await store.selectedTargets(tenantID: tenant.id) {
            let key = try GraphPathSegment.userKey(target.userID ?? target.userPrincipalName)
            do {
                _ = try await lease.call { try await graph.object(graph.url("/users/\(key)?$select=id"), as: GraphDirectoryObject.self, accessToken: $0) }
            } catch let error as GraphError where error.kind == .notFound {
                gone.append(target.userPrincipalName)
            }
        }
        try await store.removeSelectedTargets(tenantID: tenant.id, userPrincipalNames: gone)
        return gone
    }

    private func userNotFound(_ upn: String, _ tenant: Tenant) -> TenantSyncError {
        TenantSyncError(
            .userNotFound, "No user with the user principal name \(upn) in \(tenant.domain); give the exact name.",
            context: ["user.upn": upn, "tenant.domain": tenant.domain]
        )
    }
}
