import Foundation
import TenantSyncCore

extension TokenRefresher {
    /// How close to expiry a token is still handed out; callers need a moment to use it.
    static let handOutSkew: TimeInterval = 30

    public func accessToken(grantID: Int64) async throws -> Secret {
        if let token = try await usableToken(grantID: grantID) { return token }
        // Expired: the scheduler fell behind (a long outage, a restart). Refresh now, once,
        // under the grant's lock; backoff is respected because only a due grant is refreshed.
        await refreshIfDue(grantID: grantID, onDemand: true)
        if let token = try await usableToken(grantID: grantID) { return token }
        if leasing != nil, let token = try await tokenRefreshedElsewhere(grantID: grantID) { return token }
        throw TenantSyncError(
            .tokenUnavailable,
            "The grant's access token expired and refreshing it is failing; tenantsync keeps retrying.",
            context: ["grant.id": "\(grantID)"]
        )
    }

    /// In a cluster, another node may hold the grant's lease and be refreshing it: waits for its token set to reach
    /// the store (or its lease to end, and then refreshes here), for at most ``clusterWaitLooks`` looks
    /// ``clusterWaitInterval`` apart (10 s: a refresh in flight elsewhere ends well within it; a node that died holding
    /// the lease is not waited for, the caller gets the retrying error and the next refresh round takes the grant).
    private func tokenRefreshedElsewhere(grantID: Int64) async throws -> Secret? {
        for _ in 0..<Self.clusterWaitLooks {
            try await clock.sleep(for: Self.clusterWaitInterval)
            if let token = try await usableToken(grantID: grantID) { return token }
            await refreshIfDue(grantID: grantID, onDemand: true)
            if let token = try await usableToken(grantID: grantID) { return token }
        }
        return nil
    }

    /// How often, and how many times, an on-demand caller looks for a token another node is refreshing.
    static let clusterWaitInterval: Duration = .milliseconds(500)
    static let clusterWaitLooks = 20

    private func usableToken(grantID: Int64) async throws -> Secret? {
        guard let snapshot = try await storage.tokenSnapshot(grantID: grantID) else {
            throw TenantSyncError(.grantNotFound, "No grant \(grantID).", context: ["grant.id": "\(grantID)"])
        }
        switch snapshot.grant.state {
        case .invalid:
            throw TenantSyncError(
                .grantInvalid, "The grant is invalid; renew its account with tenantsyncctl renew \(snapshot.grant.accountID).",
                context: ["grant.id": "\(grantID)", "account.id": "\(snapshot.grant.accountID)"]
            )
        case .pending:
            throw TenantSyncError(.tokenUnavailable, "The grant awaits consent; it has no token yet.", context: ["grant.id": "\(grantID)"])
        case .valid:
            guard let tokens = snapshot.tokens else {
                throw TenantSyncError(.tokenUnavailable, "The grant has no token set.", context: ["grant.id": "\(grantID)"])
            }
            return tokens.expiresAt.timeIntervalSince(now()) > Self.handOutSkew ? tokens.accessToken : nil
        }
    }
}
