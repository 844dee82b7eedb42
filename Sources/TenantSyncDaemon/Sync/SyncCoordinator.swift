import Foundation
import TenantSyncCore

/// Decides which sync runs happen: never two of one tenant at once, requests
/// during a run coalesced into it, and callers told when their run ends.
///
/// It holds no tasks: ``SyncScheduler`` asks it for work and reports back.
public actor SyncCoordinator {
    /// A wish for a sync of one tenant.
    public struct Request: Sendable, Equatable {
        public var tenantID: String
        public var service: ServiceKind?
        public var trigger: SyncTrigger
        /// Ignore stored delta links (extend, provisioning, operator's choice).
        public var forceFull: Bool

        public init(tenantID: String, service: ServiceKind? = nil, trigger: SyncTrigger, forceFull: Bool = false) {
            self.tenantID = tenantID
            self.service = service
            self.trigger = trigger
            self.forceFull = forceFull
        }

        /// Folds a second request into this one: full wins, and the stronger trigger names the run.
        mutating func merge(_ other: Request) {
            forceFull = forceFull || other.forceFull
            if Self.rank(other.trigger) > Self.rank(trigger) { trigger = other.trigger }
            if service != other.service { service = nil }
        }

        static func rank(_ trigger: SyncTrigger) -> Int {
            switch trigger {
            case .daily: 0
            case .manual: 1
            case .provision: 2
            case .extend: 3
            }
        }
    }

    private var pending: [String: Request] = [:]
    private var order: [String] = []
    private var active: [String: Request] = [:]
    /// Tenants held idle for work that must not overlap one of their runs (confirming a held run).
    private var reserved: Set<String> = []
    private var waiters: [String: [CheckedContinuation<SyncRun, any Error>]] = [:]
    private var observers: [String: [UUID: AsyncStream<SyncProgress>.Continuation]] = [:]
    private var wake: AsyncStream<Void>.Continuation?
    private let wakeStream: AsyncStream<Void>

    public init() {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.wakeStream = stream
        self.wake = continuation
    }

    /// A stream that yields whenever new work may be available.
    nonisolated public var wakeUps: AsyncStream<Void> { wakeStream }

    /// Queues a request, or folds it into the queued or running one of the same tenant.
    ///
    /// - Returns: `true` when it joined a run already going (a coalesced request).
    @discardableResult
    public func submit(_ request: Request) -> Bool {
        if let running = active[request.tenantID] {
            // A run is going. Join it unless it cannot serve the request (a full sync asked during a delta run).
            if !request.forceFull || running.forceFull { return true }
        }
        if var queued = pending[request.tenantID] {
            queued.merge(request)
            pending[request.tenantID] = queued
        } else {
            pending[request.tenantID] = request
            order.append(request.tenantID)
        }
        wake?.yield()
        return active[request.tenantID] != nil
    }

    /// Takes the oldest queued request whose tenant is not running; `nil` when none or `limit` runs are going.
    public func next(limit: Int = .max) -> Request? {
        guard active.count < limit, let index = order.firstIndex(where: { active[$0] == nil && !reserved.contains($0) }) else { return nil }
        let tenantID = order.remove(at: index)
        guard let request = pending.removeValue(forKey: tenantID) else { return nil }
        active[tenantID] = request
        return request
    }

    /// Whether a run of the tenant has been taken from the queue and is going.
    public func isRunning(tenantID: String) -> Bool { active[tenantID] != nil }

    /// Wakes the scheduler without new work: a reload may have raised the bound on concurrent runs.
    public func settingsChanged() {
        wake?.yield()
    }

    /// Whether a run of the tenant is going or queued, or the tenant is reserved.
    public func isBusy(tenantID: String) -> Bool { active[tenantID] != nil || pending[tenantID] != nil || reserved.contains(tenantID) }

    /// Reserves an idle tenant: no run of it starts until ``release(tenantID:)``; `false` when it is busy.
    ///
    /// Check and reservation are one step on the actor, so no sync can start between them.
    public func reserveIdle(tenantID: String) -> Bool {
        guard !isBusy(tenantID: tenantID) else { return false }
        reserved.insert(tenantID)
        return true
    }

    /// Ends a reservation; a run requested meanwhile may start now.
    public func release(tenantID: String) {
        reserved.remove(tenantID)
        wake?.yield()
    }

    /// Waits until the tenant's current (or next) run ends, and returns it.
    public func completion(tenantID: String) async throws -> SyncRun {
        try await withCheckedThrowingContinuation { continuation in
            waiters[tenantID, default: []].append(continuation)
        }
    }

    /// Progress of the tenant's runs until the caller stops listening.
    public func progress(tenantID: String) -> AsyncStream<SyncProgress> {
        let (stream, continuation) = AsyncStream<SyncProgress>.makeStream(bufferingPolicy: .bufferingNewest(16))
        let id = UUID()
        observers[tenantID, default: [:]][id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.removeObserver(tenantID: tenantID, id: id) }
        }
        return stream
    }

    private func removeObserver(tenantID: String, id: UUID) {
        observers[tenantID]?[id] = nil
    }

    func publish(_ progress: SyncProgress) {
        for continuation in observers[progress.tenantID]?.values ?? [:].values { continuation.yield(progress) }
    }

    /// Records the end of a run and wakes everyone waiting for it.
    func finished(tenantID: String, result: Result<SyncRun, any Error>) {
        active[tenantID] = nil
        // Waiters queued behind a follow-up run wait for that one.
        if pending[tenantID] == nil {
            for waiter in waiters.removeValue(forKey: tenantID) ?? [] { waiter.resume(with: result) }
            let end: SyncProgress
            switch result {
            case .success(let run):
                end = SyncProgress(runID: run.id, tenantID: tenantID, mode: run.mode, phase: "ended", pages: run.pages, counts: run.counts)
            case .failure:
                // Observers wait for an end either way (a `sync --wait` would hang otherwise); the
                // failed run itself is in the store, where they read its outcome.
                end = SyncProgress(runID: 0, tenantID: tenantID, mode: .full, phase: "failed", pages: 0, counts: DirectoryChangeCounts())
            }
            for continuation in observers[tenantID]?.values ?? [:].values { continuation.yield(end) }
        }
        wake?.yield()
    }

    /// Fails every waiter (shutdown).
    func cancelAll() {
        for (_, list) in waiters { for waiter in list { waiter.resume(throwing: CancellationError()) } }
        waiters = [:]
        for (_, list) in observers { for continuation in list.values { continuation.finish() } }
        observers = [:]
        wake?.finish()
    }
}
