import struct Foundation.Date

/// The one-line state the daemon reports to systemd (`STATUS=`) and to `tenantsyncctl status`.
///
/// `12 accounts: 11 healthy, 1 token invalid (contoso.com/exchange-online); next sync 02:13`
public struct StatusLine: Sendable, Equatable {
    public struct DegradedAccount: Sendable, Equatable {
        public var tenantDomain: String
        public var service: ServiceKind
        public var state: String

        public init(tenantDomain: String, service: ServiceKind, state: String) {
            self.tenantDomain = tenantDomain
            self.service = service
            self.state = state
        }
    }

    public var accounts: Int
    public var provisioning: Int
    public var degraded: [DegradedAccount]
    public var nextSync: Date?
    public var failingDeliveries: Int
    /// Since when the database refuses writes (token refreshes are paused); `nil` when it accepts them.
    public var storeUnwritableSince: Date?

    public init(
        accounts: Int, provisioning: Int, degraded: [DegradedAccount], nextSync: Date?, failingDeliveries: Int,
        storeUnwritableSince: Date? = nil
    ) {
        self.accounts = accounts
        self.provisioning = provisioning
        self.degraded = degraded
        self.nextSync = nextSync
        self.failingDeliveries = failingDeliveries
        self.storeUnwritableSince = storeUnwritableSince
    }

    public var healthy: Int { accounts - provisioning - degraded.count }

    /// The text, kept short: systemd shows it in `systemctl status`.
    public var text: String {
        var parts = ["\(accounts) account\(accounts == 1 ? "" : "s"): \(healthy) healthy"]
        if provisioning > 0 { parts.append("\(provisioning) provisioning") }
        let byState = Dictionary(grouping: degraded, by: \.state)
        for state in byState.keys.sorted() {
            let list = byState[state]!
            let names = list.prefix(3).map { "\($0.tenantDomain)/\($0.service.rawValue)" }.joined(separator: ", ")
            let more = list.count > 3 ? ", +\(list.count - 3) more" : ""
            parts.append("\(list.count) \(state) (\(names)\(more))")
        }
        var text = parts.joined(separator: ", ")
        // First: nothing else the daemon does is safe while it cannot persist.
        if let storeUnwritableSince {
            text = "database not writable since \(Self.hourMinute(storeUnwritableSince)), token refreshes paused; " + text
        }
        if let nextSync { text += "; next sync \(Self.hourMinute(nextSync))" }
        if failingDeliveries > 0 { text += "; \(failingDeliveries) alert deliver\(failingDeliveries == 1 ? "y" : "ies") failing" }
        return text
    }

    /// The line while the database does not answer: nothing else in it can be read, and nothing the daemon does
    /// that needs the database (token refreshes, syncs, deliveries) happens until it answers again.
    public static func storeUnreachableText(since: Date, error: String) -> String {
        let cause = error.count > 160 ? String(error.prefix(157)) + "..." : error
        return "database not answering since \(hourMinute(since)), retrying; token refreshes, syncs and alert deliveries wait (\(cause))"
    }

    static func hourMinute(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970) % 86_400
        let hours = seconds / 3_600, minutes = (seconds % 3_600) / 60
        return (hours < 10 ? "0" : "") + "\(hours):" + (minutes < 10 ? "0" : "") + "\(minutes)"
    }
}
