import GRDB
import TenantSyncCore

extension SQLiteStore: ScheduleChangeSource {
    /// Calls `onChange` after every committed transaction that touched a table the daily plan reads.
    ///
    /// GRDB calls a region observation from the writer's commit, before the write returns: a `status` asked
    /// after any write sees a plan that includes it. Directory writes (users, groups, members) touch none of
    /// these tables and cost nothing here.
    public func observeScheduleChanges(_ onChange: @escaping @Sendable () -> Void) -> StoreObservation {
        let observation = DatabaseRegionObservation(tracking: Table("tenants"), Table("service_accounts"), Table("sync_runs"))
        let cancellable = ObservationCancellable(observation.start(in: pool.blocking, onError: { _ in onChange() }, onChange: { _ in onChange() }))
        return StoreObservation { cancellable.cancel() }
    }
}
