import MicrosoftCloud
import Synchronization
import TenantSyncCore

/// One operation's Graph token for a tenant: fetched once, replaced once after a 401.
///
/// A 401 with a claims challenge (continuous access evaluation) asks the source for a token with the
/// challenge's claims; a plain 401 (expired, revoked) for a forced refresh. The call is retried once either way.
final class GraphTokenLease: Sendable {
    let tenantID: String
    let source: any GraphTokenSource
    private let token = Mutex<Secret?>(nil)

    init(tenantID: String, source: any GraphTokenSource) {
        self.tenantID = tenantID
        self.source = source
    }

    /// Runs one Graph call with the lease's token, and once more with a new token if Graph refused it.
    func call<T>(_ body: (Secret) async throws -> T) async throws -> T {
        let used = try await current()
        do {
            return try await body(used)
        } catch let error as GraphError where error.kind == .unauthorized {
            let fresh: Secret
            if let challenge = error.claimsChallenge {
                fresh = try await source.graphAccessToken(tenantID: tenantID, answeringClaims: challenge.claims)
            } else {
                fresh = try await source.graphAccessToken(tenantID: tenantID, forceRefresh: true)
            }
            token.withLock { $0 = fresh }
            return try await body(fresh)
        }
    }

    private func current() async throws -> Secret {
        if let token = token.withLock({ $0 }) { return token }
        let fresh = try await source.graphAccessToken(tenantID: tenantID, forceRefresh: false)
        token.withLock { $0 = fresh }
        return fresh
    }
}
