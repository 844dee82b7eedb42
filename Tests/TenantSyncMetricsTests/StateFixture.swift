import Foundation
import Synchronization
import TenantSyncCore

/// The exporter's state as the store would answer it, and how often it was asked.
///
/// The store's own query is tested against a real SQLite file in the daemon's tests
/// (`MetricsStateStoreTests`); here the state is data, so the rendering can be checked value by value.
final class StateFixture: MetricsStateSource {
    struct StoredAlert {
        var id: Int64
        var kind: String
        var severity: String
    }

    private let current: Mutex<(state: MetricsState, alerts: [StoredAlert], reads: Int, versions: [String: Int64]?, asked: [[String: Int64]])>

    /// - Parameter versions: each tenant's count of changes, as a store that keeps them answers (nil: one that does not).
    init(_ state: MetricsState = StateFixture.everything, alerts: [StoredAlert] = [], versions: [String: Int64]? = nil) {
        current = Mutex((state, alerts, 0, versions, []))
    }

    var reads: Int { current.withLock { $0.reads } }
    /// The known versions each read was given.
    var asked: [[String: Int64]] { current.withLock { $0.asked } }

    func replace(_ state: MetricsState) { current.withLock { $0.state = state } }
    func store(_ alert: StoredAlert) { current.withLock { $0.alerts.append(alert) } }
    /// Sets tenants' counts of changes, as the store's triggers do.
    func setVersions(_ versions: [String: Int64]) { current.withLock { $0.versions = versions } }

    func metricsState(alertsAfter: Int64, knownVersions: [String: Int64]) async throws -> MetricsState {
        current.withLock { current in
            current.reads += 1
            current.asked.append(knownVersions)
            var state = current.state
            if let versions = current.versions {
                // As the stores answer: every tenant's count, the rows of the tenants whose count moved.
                state.versions = state.tenants.map { MetricsState.TenantVersion(tenant: $0.tenant, version: versions[$0.tenant] ?? 0) }
                let changed = Set(state.tenants.map(\.tenant).filter { knownVersions[$0] != (versions[$0] ?? 0) })
                state.grants = state.grants.filter { changed.contains($0.tenant) }
                state.accounts = state.accounts.filter { changed.contains($0.tenant) }
                state.tenants = state.tenants.filter { changed.contains($0.tenant) }
            }
            let newer = current.alerts.filter { $0.id > alertsAfter }
            var counts: [String: MetricsState.AlertCount] = [:]
            for alert in newer {
                counts["\(alert.kind)/\(alert.severity)", default: .init(kind: alert.kind, severity: alert.severity, count: 0)].count += 1
            }
            state.newAlerts = counts.values.sorted { $0.kind < $1.kind }
            state.newestAlertID = newer.map(\.id).max() ?? alertsAfter
            return state
        }
    }

    static let expiry = Date(timeIntervalSince1970: 1_800_000_000)

    /// One of everything: a valid and an invalid grant, every account state, a Teams secret expiry,
    /// a synced, a held and a never-synced tenant, and a backed-up channel.
    static let everything = MetricsState(
        grants: [
            .init(tenant: "contoso.com", service: .exchangeOnline, grant: "ews", state: .valid, expiresAt: expiry,
                  nextRefreshAt: expiry - 600, lastRefreshAt: expiry - 3_600),
            .init(tenant: "contoso.com", service: .exchangeOnline, grant: "graph", state: .invalid, expiresAt: expiry - 7_200,
                  nextRefreshAt: expiry - 7_800, lastRefreshAt: expiry - 10_800),
            .init(tenant: "fabrikam.com", service: .onedrive, grant: "graph", state: .pending, expiresAt: nil, nextRefreshAt: nil, lastRefreshAt: nil),
        ],
        accounts: [
            .init(tenant: "contoso.com", service: .exchangeOnline, state: .tokenInvalid, clientSecretExpiresAt: nil),
            .init(tenant: "contoso.com", service: .teamsChat, state: .active, clientSecretExpiresAt: expiry + 86_400),
            .init(tenant: "fabrikam.com", service: .onedrive, state: .provisioning, clientSecretExpiresAt: nil),
        ],
        tenants: [
            .init(tenant: "contoso.com", lastAttemptAt: expiry - 100, lastSuccessAt: expiry - 50, directoryUsers: 30, held: false, scheduled: true),
            .init(tenant: "fabrikam.com", lastAttemptAt: expiry - 200, lastSuccessAt: nil, directoryUsers: 0, held: true, scheduled: false),
        ],
        outbox: [.init(channel: "smtp", pending: 3, oldestPendingAt: expiry - 1_000)],
        incidentsOpen: 2
    )
}
