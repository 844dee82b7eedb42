/// One refresh at a time per grant.
///
/// Microsoft rotates refresh tokens: two concurrent redemptions of the same
/// stored refresh token would race, and the loser's rotation would be lost.
/// The scheduler, the on-demand path and renewals all take the grant's lock,
/// and read the newest stored refresh token only once they hold it.
public actor GrantLocks {
    private var held: Set<Int64> = []
    private var waiters: [Int64: [CheckedContinuation<Void, Never>]] = [:]

    public init() {}

    /// Runs `body` holding the grant's lock.
    public nonisolated func withLock<T: Sendable>(_ grantID: Int64, _ body: () async throws -> T) async rethrows -> T {
        await acquire(grantID)
        do {
            let value = try await body()
            await release(grantID)
            return value
        } catch {
            await release(grantID)
            throw error
        }
    }

    /// Whether some task holds the grant's lock now.
    public func isHeld(_ grantID: Int64) -> Bool { held.contains(grantID) }

    private func acquire(_ grantID: Int64) async {
        guard held.contains(grantID) else {
            held.insert(grantID)
            return
        }
        // Ownership passes directly from releaser to waiter, so nobody can jump the queue.
        await withCheckedContinuation { waiters[grantID, default: []].append($0) }
    }

    private func release(_ grantID: Int64) {
        if var queue = waiters[grantID], !queue.isEmpty {
            let next = queue.removeFirst()
            waiters[grantID] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            held.remove(grantID)
        }
    }
}
