/// One page of `ListAlerts`, newest first.
public struct AlertPage: Codable, Sendable, Equatable {
    public var alerts: [AlertInfo]
    /// Pass as `after` to read the next (older) page; absent on the last page.
    public var next: String?

    public init(alerts: [AlertInfo], next: String?) {
        self.alerts = alerts
        self.next = next
    }
}
