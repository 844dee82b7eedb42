/// The pages of one read of a Graph collection: the first URL and the next links after it.
///
/// A broken or hostile Graph could answer with a next link to a page already read, or with new
/// links forever; either would keep a sync reading (and holding what it read) without end. The
/// trail refuses a link seen before in the same read and a read longer than `maximumPages`.
public struct GraphPageTrail: Sendable {
    /// 10,000 pages of 999 objects: ten million users, groups or members in one read, far above
    /// any real tenant, yet a bound on what one read may hold.
    public static let defaultMaximumPages = 10_000

    public let maximumPages: Int
    private(set) public var pages = 0
    /// Hashes, not the links: a read of thousands of pages would otherwise hold megabytes of URLs.
    /// A 64-bit collision between two different links of one read is not a practical concern.
    private var seen: Set<Int>

    public init(first url: String, maximumPages: Int = GraphPageTrail.defaultMaximumPages) {
        self.maximumPages = max(1, maximumPages)
        seen = [url.hashValue]
    }

    /// Records that a page was read and returns its next link, if any, once it is safe to follow.
    ///
    /// - Throws: `GraphError` (`malformedResponse`) for a next link already read in this trail, or
    ///   when following it would exceed `maximumPages`.
    public mutating func next(after nextLink: String?, from url: String) throws -> String? {
        pages += 1
        guard let nextLink else { return nil }
        guard seen.insert(nextLink.hashValue).inserted else {
            throw GraphError(
                kind: .malformedResponse, status: 200, code: "nextLinkLoop",
                message: "Graph returned a @odata.nextLink to a page already read in this listing (after \(pages) pages); stopping instead of looping",
                requestID: nil, retryAfter: nil, path: GraphClient.path(of: url)
            )
        }
        guard pages < maximumPages else {
            throw GraphError(
                kind: .malformedResponse, status: 200, code: "tooManyPages",
                message: "Graph listing exceeded \(maximumPages) pages; stopping so one read cannot grow without bound",
                requestID: nil, retryAfter: nil, path: GraphClient.path(of: url)
            )
        }
        return nextLink
    }
}
