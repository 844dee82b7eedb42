import Foundation
import TenantSyncCore

// TEMPORARY SCAFFOLD (session 6, issue #17): helper pgstore2 replaces this file with the real DirectoryStore in the
// same session. Until then every method throws `storeUnavailable` so that the PostgreSQL store compiles behind the
// protocols; it is not an implementation and must not ship.
extension PostgreSQLStore: DirectoryStore {
    public func applyDirectoryBatch(tenantID: String, batch: DirectoryBatch, at: Date) async throws -> DirectoryChangeCounts {
        throw Self.notImplemented("the directory")
    }

    public func deltaLink(tenantID: String, resource: String) async throws -> String? {
        throw Self.notImplemented("the directory")
    }

    public func clearDeltaLinks(tenantID: String) async throws {
        throw Self.notImplemented("the directory")
    }

    public func directoryUser(tenantID: String, userPrincipalName: String) async throws -> DirectoryUser? {
        throw Self.notImplemented("the directory")
    }

    public func memberCounts(tenantID: String, groupIDs: [String]) async throws -> [String: Int] {
        throw Self.notImplemented("the directory")
    }

    public func selectedTargets(tenantID: String) async throws -> [SelectedTarget] {
        throw Self.notImplemented("the directory")
    }

    public func addSelectedTargets(_ targets: [SelectedTarget]) async throws {
        throw Self.notImplemented("the directory")
    }

    public func removeSelectedTargets(tenantID: String, userPrincipalNames: [String]) async throws {
        throw Self.notImplemented("the directory")
    }

    public func startSyncRun(tenantID: String, service: ServiceKind?, trigger: SyncTrigger, mode: SyncMode, at: Date) async throws -> SyncRun {
        throw Self.notImplemented("the directory")
    }

    public func recordSyncProgress(runID: Int64, pages: Int, counts: DirectoryChangeCounts) async throws {
        throw Self.notImplemented("the directory")
    }

    public func finishSyncRun(runID: Int64, state: SyncRunState, error: String?, at: Date) async throws {
        throw Self.notImplemented("the directory")
    }

    public func syncRun(id: Int64) async throws -> SyncRun? {
        throw Self.notImplemented("the directory")
    }

    public func syncRuns(tenantID: String, limit: Int) async throws -> [SyncRun] {
        throw Self.notImplemented("the directory")
    }

    public func lastSuccessfulSyncRun(tenantID: String) async throws -> SyncRun? {
        throw Self.notImplemented("the directory")
    }

    public func failInterruptedSyncRuns(at: Date) async throws -> Int {
        throw Self.notImplemented("the directory")
    }

    public func setSyncRunNote(runID: Int64, note: String) async throws {
        throw Self.notImplemented("the directory")
    }

    public func directoryUserIDs(tenantID: String) async throws -> Set<String> {
        throw Self.notImplemented("the directory")
    }

    public func directoryUserCount(tenantID: String) async throws -> Int {
        throw Self.notImplemented("the directory")
    }

    public func directoryGroupIDs(tenantID: String) async throws -> Set<String> {
        throw Self.notImplemented("the directory")
    }

    public func holdSyncRun(runID: Int64, removedUserIDs: [String], removedGroupIDs: [String], deltaLinks: [String: String], at: Date) async throws {
        throw Self.notImplemented("the directory")
    }

    public func confirmHeldSyncRun(runID: Int64, at: Date) async throws -> DirectoryChangeCounts {
        throw Self.notImplemented("the directory")
    }

    public func discardHeldSyncRun(runID: Int64, at: Date) async throws {
        throw Self.notImplemented("the directory")
    }

    public func heldSyncRuns(tenantID: String) async throws -> [SyncRun] {
        throw Self.notImplemented("the directory")
    }

    public func heldSyncRunsOfAllTenants() async throws -> [SyncRun] {
        throw Self.notImplemented("the directory")
    }

    public func scheduledTenants(onlyTenantID tenantID: String?) async throws -> [ScheduledTenant] {
        throw Self.notImplemented("the directory")
    }

    public func directorySummary(tenantID: String) async throws -> DirectorySummary {
        throw Self.notImplemented("the directory")
    }

    public func directoryUserRecord(tenantID: String, userPrincipalName: String, groupsAfter: String?, groupsLimit: Int) async throws -> DirectoryUserRecord? {
        throw Self.notImplemented("the directory")
    }
}
