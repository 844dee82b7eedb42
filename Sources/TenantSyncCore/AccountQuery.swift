/// Which accounts to list, and which page: filters applied in the store, keyset paging on the account id.
public struct AccountQuery: Sendable, Equatable {
    public var tenantID: String?
    public var state: AccountState?
    public var service: ServiceKind?
    /// Only accounts that are `token-invalid` or have an open incident.
    public var needsAttention: Bool
    /// Accounts with an id greater than this (the previous page's cursor).
    public var afterID: Int64?
    /// At most this many; nil for all.
    public var limit: Int?

    public init(
        tenantID: String? = nil, state: AccountState? = nil, service: ServiceKind? = nil, needsAttention: Bool = false,
        afterID: Int64? = nil, limit: Int? = nil
    ) {
        self.tenantID = tenantID
        self.state = state
        self.service = service
        self.needsAttention = needsAttention
        self.afterID = afterID
        self.limit = limit
    }
}
