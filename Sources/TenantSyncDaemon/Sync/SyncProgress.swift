import TenantSyncCore

/// What a running sync has done so far; streamed to `tenantsyncctl sync --wait`.
public struct SyncProgress: Sendable, Equatable, Codable {
    public var runID: Int64
    public var tenantID: String
    public var mode: SyncMode
    /// `users`, `groups`, `memberships`, `removals`, `done`.
    public var phase: String
    public var pages: Int
    public var counts: DirectoryChangeCounts

    public init(runID: Int64, tenantID: String, mode: SyncMode, phase: String, pages: Int, counts: DirectoryChangeCounts) {
        self.runID = runID
        self.tenantID = tenantID
        self.mode = mode
        self.phase = phase
        self.pages = pages
        self.counts = counts
    }
}
