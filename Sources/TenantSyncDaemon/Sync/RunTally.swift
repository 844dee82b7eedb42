import Foundation
import Synchronization
import TenantSyncCore

/// Counts and pages of a run in progress, shared by the run's concurrent readers.
///
/// The run's row is updated at most once a second while it runs (progress stays readable
/// without a second write transaction per page) and always at the end of the run.
final class RunTally: Sendable {
    private struct State {
        var pages = 0
        var counts = DirectoryChangeCounts()
        var lastRecorded: Date?
    }

    let run: SyncRun
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    init(run: SyncRun, now: @escaping @Sendable () -> Date) {
        self.run = run
        self.now = now
    }

    var pages: Int { state.withLock { $0.pages } }
    var counts: DirectoryChangeCounts { state.withLock { $0.counts } }

    /// Adds what a batch changed without reporting it (the end of a run records it itself).
    func add(_ change: DirectoryChangeCounts) {
        state.withLock { $0.counts += change }
    }

    /// Adds what a batch changed, tells the observer, and records it in the run's row when a second has passed.
    func add(
        _ change: DirectoryChangeCounts, pages added: Int, store: any DirectoryStore,
        progress: @Sendable (SyncProgress) async -> Void, phase: String
    ) async throws {
        let current = now()
        let (snapshot, record) = state.withLock { state -> (SyncProgress, Bool) in
            state.counts += change
            state.pages += added
            let due = state.lastRecorded.map { current.timeIntervalSince($0) >= 1 || current < $0 } ?? true
            if due { state.lastRecorded = current }
            return (SyncProgress(runID: run.id, tenantID: run.tenantID, mode: run.mode, phase: phase, pages: state.pages, counts: state.counts), due)
        }
        if record { try await store.recordSyncProgress(runID: run.id, pages: snapshot.pages, counts: snapshot.counts) }
        await progress(snapshot)
    }

    func progress(phase: String) -> SyncProgress {
        state.withLock { SyncProgress(runID: run.id, tenantID: run.tenantID, mode: run.mode, phase: phase, pages: $0.pages, counts: $0.counts) }
    }
}
