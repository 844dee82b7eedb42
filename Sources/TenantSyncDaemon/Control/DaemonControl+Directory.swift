import ControlPlane
import Foundation
import TenantSyncCore

/// What is protected: the synced directory of a tenant and the answer for one user.
extension DaemonControl {
    /// Groups per `GetDirectoryUser` reply unless the caller asks otherwise, and the most it may ask.
    static let defaultGroupsLimit = 100
    static let maximumGroupsLimit = 1_000

    func directory(tenant: String, context: ControlContext) async throws -> DirectoryInfo {
        let tenant = try await operations.tenant(tenant)
        let summary = try await store.directorySummary(tenantID: tenant.id)
        let now = Date()
        let selected = tenant.syncScope == .selected ? try await store.selectedTargets(tenantID: tenant.id).count : 0
        return DirectoryInfo(
            tenantID: tenant.id, tenantDomain: tenant.domain, scope: tenant.syncScope, users: summary.users,
            disabledUsers: summary.disabledUsers, groups: summary.groups, memberships: summary.memberships, selectedTargets: selected,
            lastFull: summary.lastFull.map(SyncRunInfo.init), lastDelta: summary.lastDelta.map(SyncRunInfo.init),
            deltaLinks: summary.deltaLinks.map {
                .init(resource: $0.resource, updatedAt: $0.updatedAt, ageSeconds: max(Int(now.timeIntervalSince($0.updatedAt)), 0))
            },
            services: try await directoryAccounts(tenant).map { .init(accountID: $0.id, service: $0.service, state: $0.state) }
        )
    }

    func directoryUser(_ request: DirectoryUserRequest, context: ControlContext) async throws -> DirectoryUserInfo {
        let upn = request.user.trimmingCharacters(in: .whitespaces)
        guard !upn.isEmpty else {
            throw TenantSyncError(.invalidArgument, "Give the user principal name of the user to look up.", context: ["argument": "user"])
        }
        let limit = request.groupsLimit ?? Self.defaultGroupsLimit
        guard (1...Self.maximumGroupsLimit).contains(limit) else {
            throw TenantSyncError(
                .invalidArgument, "groups_limit must be between 1 and \(Self.maximumGroupsLimit); it was \(limit).",
                context: ["argument": "groups_limit"]
            )
        }
        let tenant = try await operations.tenant(request.tenant)
        let accounts = try await directoryAccounts(tenant)
        let active = accounts.filter { $0.state == .active }.map(\.service)
        let record = try await store.directoryUserRecord(tenantID: tenant.id, userPrincipalName: upn, groupsAfter: request.groupsAfter, groupsLimit: limit)
        var answer = DirectoryUserInfo(
            tenantID: tenant.id, tenantDomain: tenant.domain, userPrincipalName: record?.user.userPrincipalName ?? upn, isProtected: false,
            reason: nil, message: "", scope: tenant.syncScope
        )
        if let record {
            answer.userID = record.user.id
            answer.displayName = record.user.displayName
            answer.mail = record.user.mail
            answer.accountEnabled = record.user.accountEnabled
            answer.changedAt = record.changedAt
            answer.groups = record.groups.map { .init(id: $0.group.id, displayName: $0.group.displayName, mail: $0.group.mail, direct: $0.direct) }
            answer.groupsTotal = record.groupsTotal
            // A full page may be the last one; the next call then answers an empty page.
            answer.groupsNext = record.groups.count == limit ? record.groups.last?.group.id : nil
            answer.pendingRemovalRun = record.pendingRemovalRunID
        }

        let name = answer.userPrincipalName
        switch tenant.syncScope {
        case .all:
            guard let record else {
                if try await store.lastSuccessfulSyncRun(tenantID: tenant.id) == nil {
                    answer.reason = .neverSynced
                    answer.message = "\(name) is not protected: no sync of \(tenant.domain) has succeeded yet; its users are protected once the first one ends."
                } else {
                    answer.reason = .notInDirectory
                    answer.message = "\(name) is not protected: the synced directory of \(tenant.domain) has no such user (it never existed there, was deleted, or a sync removed it)."
                }
                return answer
            }
            answer.via = "all"
            answer.since = record.firstSyncedAt
        case .selected:
            guard let target = try await store.selectedTargets(tenantID: tenant.id).first(where: { $0.userPrincipalName.lowercased() == upn.lowercased() }) else {
                answer.reason = .notSelected
                answer.message = "\(name) is not protected: \(tenant.domain) protects selected users only and \(name) is not one of them; "
                    + "add it with `tenantsyncctl targets --tenant \(tenant.domain) add --user \(name)`."
                return answer
            }
            answer.userPrincipalName = target.userPrincipalName
            answer.via = target.source.rawValue
            answer.since = target.addedAt
        }
        guard !active.isEmpty else {
            answer.reason = .noActiveService
            let states = accounts.map { "\($0.service.rawValue): \($0.state.rawValue)" }.joined(separator: ", ")
            answer.message = accounts.isEmpty
                ? "\(name) is in scope, but not protected: \(tenant.domain) has no service account that protects its directory."
                : "\(name) is in scope, but not protected: no service account protecting the directory of \(tenant.domain) is active (\(states)); `tenantsyncctl accounts --tenant \(tenant.domain)` shows what to renew."
            return answer
        }
        answer.isProtected = true
        answer.services = active
        answer.message = "\(name) is protected through scope \(tenant.syncScope.rawValue) by \(active.map(\.displayName).joined(separator: ", "))."
        if let run = answer.pendingRemovalRun {
            answer.message += " Sync run \(run), held by the mass-deletion guard, would remove the user: `tenantsyncctl sync --tenant \(tenant.domain) --confirm-held` applies it."
        }
        return answer
    }

    /// The tenant's accounts that share the directory scope: one indexed lookup per such service.
    private func directoryAccounts(_ tenant: Tenant) async throws -> [ServiceAccount] {
        var accounts: [ServiceAccount] = []
        for service in ServiceKind.allCases where service.sharesDirectoryScope {
            if let account = try await store.account(tenantID: tenant.id, service: service) { accounts.append(account) }
        }
        return accounts
    }
}
