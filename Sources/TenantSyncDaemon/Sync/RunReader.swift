import MicrosoftCloud
import TenantSyncCore

/// What a run's requests share: the access token, refreshed once per rejected token however many
/// requests saw it rejected, and the run's read budget.
///
/// At most one token fetch is under way at a time: callers that find one running wait for its
/// answer instead of fetching their own. Two overlapping fetches could end in either order across
/// the actor's suspension, and the one that started first (the older token) would be stored last.
actor RunReader {
    let tenantID: String
    let source: any GraphTokenSource
    nonisolated let budget: RunReadBudget
    var token: Secret?
    /// Callers waiting for the fetch already under way; `nil` when none is.
    private var waiting: [CheckedContinuation<Secret, any Error>]?

    init(tenantID: String, source: any GraphTokenSource, budget: RunReadBudget) {
        self.tenantID = tenantID
        self.source = source
        self.budget = budget
    }

    /// How many callers wait for the fetch under way (the one that started it not counted).
    var waitingCallers: Int { waiting?.count ?? 0 }

    func current() async throws -> Secret {
        if let token { return token }
        return try await fetchOnce(forceRefresh: false)
    }

    /// A token other than `stale`: the one another request already fetched, or a fresh one.
    /// `claims`: a claims challenge (continuous access evaluation) the fresh token must answer.
    func refreshed(replacing stale: Secret, claims: String? = nil) async throws -> Secret {
        if let token, token != stale { return token }
        if waiting != nil {
            // A refresh under way answers this caller too; a plain first fetch may return `stale` itself.
            let joined = try await withCheckedThrowingContinuation { waiting?.append($0) }
            if joined != stale { return joined }
        }
        return try await fetchOnce(forceRefresh: true, claims: claims)
    }

    /// Fetches a token, or waits for the fetch already under way; stores and returns its answer.
    private func fetchOnce(forceRefresh: Bool, claims: String? = nil) async throws -> Secret {
        if waiting != nil {
            return try await withCheckedThrowingContinuation { waiting?.append($0) }
        }
        waiting = []
        let result: Result<Secret, any Error>
        do {
            if let claims {
                result = .success(try await source.graphAccessToken(tenantID: tenantID, answeringClaims: claims))
            } else {
                result = .success(try await source.graphAccessToken(tenantID: tenantID, forceRefresh: forceRefresh))
            }
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
