import MicrosoftCloud

extension DirectorySynchronizer {
    /// What a run may read and write, and when it is held; read afresh by each run and step (reloadable).
    public struct Settings: Sendable {
        /// Share of a tenant's users a run may remove before it is held for an operator.
        public var massDeletionThreshold: Double
        /// Users written in one transaction during a full sync (whole pages, so up to 998 more).
        ///
        /// Fewer, larger transactions rewrite each index page of the WAL less often: user ids are
        /// GUIDs, so one page of 999 users touches nearly every leaf of a small tenant's indexes.
        public var usersPerTransaction: Int
        /// Pages one listing (users, groups, one group's members, one delta round) may span.
        public var maximumPagesPerRead: Int
        /// Directory objects (users, groups, members) one run may read, all listings together.
        ///
        /// Ten million: a tenant of 300,000 users whose groups hold thirty memberships each stays well
        /// below it, while a Graph that never stops sending is stopped long before the unit's MemoryMax=.
        public var maximumObjectsPerRun: Int

        public init(
            massDeletionThreshold: Double = 0.2, usersPerTransaction: Int = 5_000, maximumPagesPerRead: Int = GraphPageTrail.defaultMaximumPages,
            maximumObjectsPerRun: Int = 10_000_000
        ) {
            self.massDeletionThreshold = massDeletionThreshold
            self.usersPerTransaction = usersPerTransaction
            self.maximumPagesPerRead = maximumPagesPerRead
            self.maximumObjectsPerRun = maximumObjectsPerRun
        }
    }
}
