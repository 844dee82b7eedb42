/// Which alerts to list, newest first: filters applied in the store, keyset paging on the alert id.
public struct AlertQuery: Sendable, Equatable {
    public var includeAcknowledged: Bool
    public var tenantID: String?
    /// Only alerts about an account of this service.
    public var service: ServiceKind?
    /// Alerts with an id smaller than this (the previous page's cursor: the list runs newest first).
    public var beforeID: Int64?
    public var limit: Int

    public init(includeAcknowledged: Bool = false, tenantID: String? = nil, service: ServiceKind? = nil, beforeID: Int64? = nil, limit: Int) {
        self.includeAcknowledged = includeAcknowledged
        self.tenantID = tenantID
        self.service = service
        self.beforeID = beforeID
        self.limit = limit
    }
}
