import MicrosoftCloud
import Synchronization

/// How many directory objects one sync run may read from Graph, across all its listings.
///
/// The page trail bounds each listing; this bounds the run as a whole (users, groups and every
/// group's members), so what a run holds while it reads (the ids it has seen, the member lists
/// waiting for the writer) stays bounded per tenant whatever Graph sends. Across tenants the
/// bound is this times `sync.max_concurrent_tenants`.
final class RunReadBudget: Sendable {
    private let limit: Int
    private let read = Mutex(0)

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// Counts `count` more objects read at `url`.
    ///
    /// - Throws: `GraphError` (`malformedResponse`) once the run has read more than the limit.
    func charge(_ count: Int, url: String) throws {
        let total = read.withLock { total in
            total += count
            return total
        }
        guard total <= limit else {
            throw GraphError(
                kind: .malformedResponse, status: 200, code: "tooManyObjects",
                message: "the run read more than \(limit) directory objects from Graph; stopping so one run cannot grow without bound",
                requestID: nil, retryAfter: nil, path: GraphClient.path(of: url)
            )
        }
    }
}
