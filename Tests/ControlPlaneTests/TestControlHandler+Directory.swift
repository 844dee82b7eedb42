import ControlPlane
import Foundation
import TenantSyncCore

/// Fixed answers for `GetDirectory` and `GetDirectoryUser`.
extension TestControlHandler {
    func directory(tenant: String, context: ControlContext) async throws -> DirectoryInfo {
        guard tenant == "contoso.example" else {
            throw TenantSyncError(.tenantNotFound, "No tenant \(tenant) is known.", context: ["tenant": tenant])
        }
        var full = SyncRun(
            id: 4, tenantID: Self.tenantID, service: nil, trigger: .provision, mode: .full, state: .succeeded, startedAt: Self.now,
            finishedAt: Self.now.addingTimeInterval(30), pages: 12, counts: DirectoryChangeCounts(), error: nil
        )
        full.counts.usersAdded = 1_200
        full.counts.groupsAdded = 40
        return DirectoryInfo(
            tenantID: Self.tenantID, tenantDomain: "contoso.example", scope: .all, users: 1_200, disabledUsers: 3, groups: 40,
            memberships: 5_310, selectedTargets: 0, lastFull: SyncRunInfo(full), lastDelta: nil,
            deltaLinks: [.init(resource: "groups", updatedAt: Self.now, ageSeconds: 93_780), .init(resource: "users", updatedAt: Self.now, ageSeconds: 45)],
            services: [.init(accountID: 7, service: .exchangeOnline, state: .tokenInvalid)]
        )
    }

    func directoryUser(_ request: DirectoryUserRequest, context: ControlContext) async throws -> DirectoryUserInfo {
        guard request.user.lowercased() == "adele@contoso.example" else {
            return DirectoryUserInfo(
                tenantID: Self.tenantID, tenantDomain: "contoso.example", userPrincipalName: request.user, isProtected: false,
                reason: .notInDirectory, message: "\(request.user) is not protected: the synced directory of contoso.example has no such user.",
                scope: .all
            )
        }
        return DirectoryUserInfo(
            tenantID: Self.tenantID, tenantDomain: "contoso.example", userPrincipalName: "Adele@contoso.example", isProtected: true,
            reason: nil, message: "Adele@contoso.example is protected through scope all by Exchange Online.", scope: .all, via: "all",
            since: Self.now, userID: "u1", displayName: "Adele \u{1B}[31mVance\u{202E}", mail: "adele@contoso.example", accountEnabled: true,
            changedAt: Self.now, services: [.exchangeOnline],
            groups: [.init(id: "g1", displayName: "Sales", mail: nil, direct: true), .init(id: "g2", displayName: "All staff", mail: "all@contoso.example", direct: false)],
            groupsTotal: 5, groupsNext: "g2"
        )
    }
}
