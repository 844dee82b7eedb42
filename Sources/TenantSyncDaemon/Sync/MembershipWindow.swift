import MicrosoftCloud
import TenantSyncCore

/// The group round of a full read as a state machine: each page in, one action out; no IO.
///
/// The service around it (`DirectorySynchronizer.readGroupRound`) fetches and writes what the actions say:
/// while a page's batch is written the next page is already being fetched, so `.write` names both. The
/// window is what stays open between pages: the last group of a page, whose members the next page may
/// continue (``GroupRoundAssembler`` keeps it), and the page trail that bounds the round and refuses a
/// next link that loops.
struct MembershipWindow {
    enum Action: Equatable {
        /// Write `batch`; fetch `next` meanwhile and pass it to ``received(_:from:)``.
        case write(DirectoryBatch, thenFetch: String)
        /// Write `batch`, the last of the round, whose groups delta link is `deltaLink`.
        case finish(DirectoryBatch, deltaLink: String)
        /// Write `batch`, then fail the round: its last page carried no `@odata.deltaLink`.
        case finishWithoutDeltaLink(DirectoryBatch)
    }

    private var assembler = GroupRoundAssembler()
    private var trail: GraphPageTrail

    init(first url: String, maximumPages: Int) {
        trail = GraphPageTrail(first: url, maximumPages: maximumPages)
    }

    /// Every group the round listed, for the removals at the end of a full run.
    var seenGroups: Set<String> { assembler.seenGroups }
    /// Member entries skipped because they are neither users nor groups, by `@odata.type`.
    var ignoredMembers: [String: Int] { assembler.ignoredMembers }

    /// What to do with `page`, read at `url`.
    ///
    /// - Throws: `GraphError` from the page trail when the next link loops or goes past the maximum number
    ///   of pages; nothing of that page is to be written then.
    mutating func received(_ page: GraphPage<GraphGroup>, from url: String) throws -> Action {
        let next = try trail.next(after: page.nextLink, from: url)
        let batch = assembler.add(page.value, isLastPage: next == nil)
        if let next { return .write(batch, thenFetch: next) }
        guard let deltaLink = page.deltaLink else { return .finishWithoutDeltaLink(batch) }
        return .finish(batch, deltaLink: deltaLink)
    }
}
