/// The parameters of `ListAccounts`: filters applied by the daemon's store, and the page to return.
public struct ListAccountsRequest: Codable, Sendable, Equatable {
    /// A tenant id or primary domain.
    public var tenant: String?
    /// `provisioning`, `active` or `token-invalid`; anything else is refused with `InvalidArgument`.
    public var state: String?
    /// A service name (`exchange-online`, ...); anything else is refused with `InvalidArgument`.
    public var service: String?
    /// At most this many accounts (1–10,000; the daemon's default when absent).
    public var limit: Int?
    /// The `next` cursor of the previous page.
    public var after: String?

    public init(tenant: String? = nil, state: String? = nil, service: String? = nil, limit: Int? = nil, after: String? = nil) {
        self.tenant = tenant
        self.state = state
        self.service = service
        self.limit = limit
        self.after = after
    }
}
