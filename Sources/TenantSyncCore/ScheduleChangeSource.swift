/// A store that says when what the daily schedule reads has changed: the tenants, their accounts, their runs.
///
/// The scheduler keeps each tenant's due date between changes instead of reading every tenant again for each
/// planning pass and each `status`; a store that does not implement it gets no such cache (every pass reads).
public protocol ScheduleChangeSource: Sendable {
    /// Calls `onChange` after every committed change to the scheduled tenants' rows, their accounts or their
    /// runs, whoever wrote it, before the write returns to its caller; until the observation is cancelled.
    func observeScheduleChanges(_ onChange: @escaping @Sendable () -> Void) -> StoreObservation
}
