/// Which alerts to list, newest first: filters applied in the store, keyset paging on the alert id.
public struct AlertQuery: Sendable, Equatable {
    /// Which alerts by whether an operator acknowledged them.
    public enum Acknowledgement: String, Sendable, CaseIterable {
        case unacknowledged
        case acknowledged
        case any
    }

    public var acknowledgement: Acknowledgement
    public var tenantID: String?
    /// Only alerts about an account of this service.
    public var service: ServiceKind?
    /// Alerts with an id smaller than this (the previous page's cursor: the list runs newest first).
    public var beforeID: Int64?
    public var limit: Int

    public init(
        acknowledgement: Acknowledgement = .unacknowledged, tenantID: String? = nil, service: ServiceKind? = nil, beforeID: Int64? = nil,
        limit: Int
    ) {
        self.acknowledgement = acknowledgement
        self.tenantID = tenantID
        self.service = service
        self.beforeID = beforeID
        self.limit = limit
    }
}
