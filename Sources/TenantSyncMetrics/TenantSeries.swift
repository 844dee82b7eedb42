import NIOCore
import TenantSyncCore

/// Every tenant's state series as text, kept between reads, so that a read rewrites only the tenants that changed.
///
/// A fleet of 10,000 tenants is about 240,000 lines. Read and written whole on each scrape, that took more than
/// the scrape's budget; the store counts each tenant's changes (``MetricsState/versions``), so a read returns
/// the rows of the tenants whose count moved, and only their text is written again here. A scrape's text is
/// then each family's header followed by every tenant's piece of that family, copied.
///
/// A value type with no IO: ``PrometheusExporter`` holds one and gives it each read.
struct TenantSeries {
    /// The families with a series per tenant, grant or account, in the order they are written.
    enum Family: Int, CaseIterable {
        case grantValid, tokenExpiration, tokenNextRefresh, tokenLastRefresh, accountState, clientSecretExpiration
        case syncLastAttempt, syncLastSuccess, directoryUsers, syncHeld, syncScheduled

        var name: String {
            switch self {
            case .grantValid: "tenantsync_grant_valid"
            case .tokenExpiration: "tenantsync_token_expiration_timestamp_seconds"
            case .tokenNextRefresh: "tenantsync_token_next_refresh_timestamp_seconds"
            case .tokenLastRefresh: "tenantsync_token_last_refresh_timestamp_seconds"
            case .accountState: "tenantsync_account_state"
            case .clientSecretExpiration: "tenantsync_client_secret_expiration_timestamp_seconds"
            case .syncLastAttempt: "tenantsync_sync_last_attempt_timestamp_seconds"
            case .syncLastSuccess: "tenantsync_sync_last_success_timestamp_seconds"
            case .directoryUsers: "tenantsync_directory_users"
            case .syncHeld: "tenantsync_sync_held"
            case .syncScheduled: "tenantsync_sync_scheduled"
            }
        }

        var help: String {
            switch self {
            case .grantValid: "1 while the grant works, 0 once Microsoft refused it (renew the account)."
            case .tokenExpiration: "When the grant's access token expires (Unix time)."
            case .tokenNextRefresh: "When the grant's next refresh is due (Unix time)."
            case .tokenLastRefresh: "When the grant's token was last refreshed (Unix time)."
            case .accountState: "1, labelled with the service account's current state (provisioning, active, token-invalid)."
            case .clientSecretExpiration: "When the account's own app client secret expires (Unix time), where known."
            case .syncLastAttempt: "When the tenant's newest directory sync started (Unix time)."
            case .syncLastSuccess: "When the tenant's newest successful directory sync ended (Unix time)."
            case .directoryUsers: "Users of the tenant's synced directory."
            case .syncHeld: "1 while a sync held by the mass-deletion guard waits for an operator."
            case .syncScheduled: "1 when the tenant gets a daily sync (scope all, an account past provisioning)."
            }
        }
    }

    /// One tenant's series: its pieces of every family, one after the other.
    struct Piece {
        var tenant: String
        /// The store's count of the tenant's changes when it was read; nil when the store keeps none.
        var version: Int64?
        /// Exactly the bytes written (a fleet keeps 10,000 of these between reads).
        var text: [UInt8]
        /// Where each family's piece ends in `text` (the previous one's end is where it starts).
        var ends: [Int]

        func range(_ family: Family) -> Range<Int> {
            (family.rawValue == 0 ? 0 : ends[family.rawValue - 1])..<ends[family.rawValue]
        }
    }

    /// Every tenant's series in the store's order (the order they are written), found by primary domain through `index`.
    private(set) var pieces: [Piece] = []
    private var index: [String: Int] = [:]
    /// How many pieces the last ``apply(_:)`` wrote (tests read it).
    private(set) var lastWritten = 0

    /// The counts of the tenants held, to give the next read: it returns the rows of the others.
    var knownVersions: [String: Int64] {
        var known: [String: Int64] = [:]
        known.reserveCapacity(pieces.count)
        for piece in pieces {
            if let version = piece.version { known[piece.tenant] = version }
        }
        return known
    }

    /// The tenants held.
    var tenants: [String] { pieces.map(\.tenant) }

    /// Takes in one read: the tenants it has rows of are written afresh; with versions, the others are kept as they
    /// are and tenants gone from the store are dropped; without, the read was the whole state and replaces it.
    mutating func apply(_ state: MetricsState) {
        let grants = Dictionary(grouping: state.grants, by: \.tenant)
        let accounts = Dictionary(grouping: state.accounts, by: \.tenant)
        var sync: [String: MetricsState.TenantSync] = [:]
        sync.reserveCapacity(state.tenants.count)
        for tenant in state.tenants { sync[tenant.tenant] = tenant }
        var read = state.tenants.map(\.tenant)
        // A grant or account whose tenant row was not read (not expected: one snapshot) still gets its series.
        for tenant in Set(grants.keys).union(accounts.keys) where sync[tenant] == nil { read.append(tenant) }
        let written = Set(read)

        func piece(_ tenant: String, version: Int64?) -> Piece {
            Self.piece(tenant: tenant, grants: grants[tenant] ?? [], accounts: accounts[tenant] ?? [], sync: sync[tenant], version: version)
        }
        // The text of the tenants read goes before theirs is written again: when every tenant changed (a fleet's
        // first read, a read past a quarter of the fleet), a fleet's text is not held twice.
        var previous = pieces
        pieces = []
        for tenant in written {
            if let stale = index[tenant] { previous[stale].text = [] }
        }
        var next: [Piece] = []
        if let versions = state.versions {
            next.reserveCapacity(versions.count)
            for version in versions {
                if written.contains(version.tenant) {
                    next.append(piece(version.tenant, version: version.version))
                } else if let kept = index[version.tenant] {
                    next.append(previous[kept])
                }
                // Neither read nor held (not expected): left out; with no known count, the next read returns it.
            }
        } else {
            next = read.map { piece($0, version: nil) }
        }
        previous = []
        pieces = next
        index = Dictionary(pieces.enumerated().map { ($1.tenant, $0) }, uniquingKeysWith: { first, _ in first })
        lastWritten = read.count
    }

    /// Writes the family's header and every tenant's piece of it (a family no tenant has samples of writes nothing).
    func write(_ family: Family, into out: inout StateExposition) {
        guard pieces.contains(where: { !$0.range(family).isEmpty }) else { return }
        out.header(family.name, family.help)
        // Pieces borrowed in place, not copied out of the array: a copy retains and releases its three arrays and its
        // string, 110,000 times per scrape at 10,000 tenants.
        pieces.withUnsafeBufferPointer { pieces in
            for index in pieces.indices {
                let range = pieces[index].range(family)
                guard !range.isEmpty else { continue }
                pieces[index].text.withUnsafeBytes { out.append(UnsafeRawBufferPointer(rebasing: $0[range])) }
            }
        }
    }

    /// The bytes of every piece (to size the buffer the scrape's text is written into).
    var byteCount: Int { pieces.reduce(0) { $0 + $1.text.count } }

    /// One tenant's series. Pending grants (a consent still open) have no token yet; only an account's current
    /// state has a series (at 1): a fleet of 30,000 accounts would carry 60,000 zeros otherwise.
    static func piece(
        tenant: String, grants: [MetricsState.Grant], accounts: [MetricsState.Account], sync: MetricsState.TenantSync?, version: Int64?
    ) -> Piece {
        var out = StateExposition(capacity: grants.count * 4 * 140 + accounts.count * 2 * 110 + 5 * 100)
        var ends: [Int] = []
        ends.reserveCapacity(Family.allCases.count)
        for family in Family.allCases {
            out.samples(of: family.name)
            switch family {
            case .grantValid:
                for grant in grants where grant.state != .pending {
                    out.sample("tenant", grant.tenant, "service", grant.service.rawValue, "grant", grant.grant, .integer(grant.state == .valid ? 1 : 0))
                }
            case .tokenExpiration:
                for grant in grants where grant.state != .pending {
                    guard let expiresAt = grant.expiresAt else { continue }
                    out.sample("tenant", grant.tenant, "service", grant.service.rawValue, "grant", grant.grant, .timestamp(expiresAt))
                }
            case .tokenNextRefresh:
                for grant in grants where grant.state == .valid {
                    guard let next = grant.nextRefreshAt else { continue }
                    out.sample("tenant", grant.tenant, "service", grant.service.rawValue, "grant", grant.grant, .timestamp(next))
                }
            case .tokenLastRefresh:
                for grant in grants where grant.state != .pending {
                    guard let last = grant.lastRefreshAt else { continue }
                    out.sample("tenant", grant.tenant, "service", grant.service.rawValue, "grant", grant.grant, .timestamp(last))
                }
            case .accountState:
                for account in accounts {
                    out.sample("tenant", account.tenant, "service", account.service.rawValue, "state", account.state.rawValue, .integer(1))
                }
            case .clientSecretExpiration:
                for account in accounts {
                    guard let expiresAt = account.clientSecretExpiresAt else { continue }
                    out.sample("tenant", account.tenant, "service", account.service.rawValue, .timestamp(expiresAt))
                }
            case .syncLastAttempt:
                if let sync, let attempt = sync.lastAttemptAt { out.sample("tenant", sync.tenant, .timestamp(attempt)) }
            case .syncLastSuccess:
                if let sync, let success = sync.lastSuccessAt { out.sample("tenant", sync.tenant, .timestamp(success)) }
            case .directoryUsers:
                if let sync { out.sample("tenant", sync.tenant, .integer(sync.directoryUsers)) }
            case .syncHeld:
                if let sync { out.sample("tenant", sync.tenant, .integer(sync.held ? 1 : 0)) }
            case .syncScheduled:
                if let sync { out.sample("tenant", sync.tenant, .integer(sync.scheduled ? 1 : 0)) }
            }
            ends.append(out.count)
        }
        return Piece(tenant: tenant, version: version, text: Array(out.buffer.readableBytesView), ends: ends)
    }
}
