import struct Foundation.Date

/// One directory synchronization of a tenant.
public struct SyncRun: Sendable, Equatable, Codable {
    public var id: Int64
    public var tenantID: String
    /// The service that asked for it; `nil` for a whole-tenant run.
    public var service: ServiceKind?
    public var trigger: SyncTrigger
    public var mode: SyncMode
    public var state: SyncRunState
    public var startedAt: Date
    public var finishedAt: Date?
    public var pages: Int
    public var counts: DirectoryChangeCounts
    public var error: String?
    /// Something the operator should know about the run (a fallback, a hold).
    public var note: String?

    public init(
        id: Int64, tenantID: String, service: ServiceKind?, trigger: SyncTrigger, mode: SyncMode, state: SyncRunState,
        startedAt: Date, finishedAt: Date?, pages: Int, counts: DirectoryChangeCounts, error: String?, note: String? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.service = service
        self.trigger = trigger
        self.mode = mode
        self.state = state
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.pages = pages
        self.counts = counts
        self.error = error
        self.note = note
    }
}
