import MicrosoftCloud
import TenantSyncCore

/// What a run's requests share: the access token, refreshed once per rejected token however many
/// requests saw it rejected, and the run's read budget.
actor RunReader {
    let tenantID: String
    let source: any GraphTokenSource
    nonisolated let budget: RunReadBudget
    var token: Secret?
    /// Requests waiting for a refresh already under way.
    var waiting: [CheckedContinuation<Secret, any Error>]?

    init(tenantID: String, source: any GraphTokenSource, budget: RunReadBudget) {
        self.tenantID = tenantID
        self.source = source
        self.budget = budget
    }

    func current() async throws -> Secret {
        if let token { return token }
        let fresh = try await source.graphAccessToken(tenantID: tenantID, forceRefresh: false)
        token = fresh
        return fresh
    }

    /// A token other than `stale`: the one another request already fetched, or a fresh one.
    func refreshed(replacing stale: Secret) async throws -> Secret {
        if let token, token != stale { return token }
        if waiting != nil {
            return try await withCheckedThrowingContinuation { waiting?.append($0) }
        }
        waiting = []
        let result: Result<Secret, any Error>
        do {
            result = .success(try await source.graphAccessToken(tenantID: tenantID, forceRefresh: true))
        } catch {
            result = .failure(error)
        }
        if case .success(let fresh) = result { token = fresh }
        let waiters = waiting ?? []
        waiting = nil
        for waiter in waiters { waiter.resume(with: result) }
        return try result.get()
    }
}
