import Foundation
import TenantSyncCore

// TEMPORARY SCAFFOLD (session 6, issue #17): helper pgstore2 replaces this file with the real AlertStore in the
// same session. Until then every method here throws `storeUnavailable` so that the PostgreSQL store compiles behind
// the protocols; it is not an implementation and must not ship. `PostgreSQLStore+AlertRows.swift` (pgstore's, not
// a scaffold) has the insert shared with the token lifecycle and enqueueAlert, alert(id:),
// alerts(includeAcknowledged:limit:) and deliveries(alertID:).
extension PostgreSQLStore: AlertStore {
    public func alerts(_ query: AlertQuery) async throws -> [Alert] {
        throw Self.notImplemented("alerts")
    }

    public func unacknowledgedAlertCount() async throws -> Int {
        throw Self.notImplemented("alerts")
    }

    public func acknowledgeAlert(id: Int64, at: Date) async throws {
        throw Self.notImplemented("alerts")
    }

    public func deliveries(alertIDs: [Int64]) async throws -> [Int64: [AlertDelivery]] {
        throw Self.notImplemented("alerts")
    }

    public func pendingDeliveriesByChannel() async throws -> [ChannelBacklog] {
        throw Self.notImplemented("alerts")
    }

    public func dueDeliveries(at date: Date, limit: Int) async throws -> [AlertDelivery] {
        throw Self.notImplemented("alerts")
    }

    public func markDelivered(alertID: Int64, channel: String, at: Date) async throws {
        throw Self.notImplemented("alerts")
    }

    public func markDeliveryFailed(alertID: Int64, channel: String, error: String, nextAttemptAt: Date) async throws {
        throw Self.notImplemented("alerts")
    }

    public func nextDeliveryDate() async throws -> Date? {
        throw Self.notImplemented("alerts")
    }

    public func discardPendingDeliveries(channel: String) async throws -> Int {
        throw Self.notImplemented("alerts")
    }

    public func discardPendingDelivery(alertID: Int64, channel: String) async throws {
        throw Self.notImplemented("alerts")
    }

    public func retryPendingDeliveries(channel: String, at date: Date) async throws -> Int {
        throw Self.notImplemented("alerts")
    }
}
