/// One page of `ListAccounts`, in account id order.
public struct AccountPage: Codable, Sendable, Equatable {
    public var accounts: [AccountSummary]
    /// Pass as `after` to read the next page; absent on the last page.
    public var next: String?

    public init(accounts: [AccountSummary], next: String?) {
        self.accounts = accounts
        self.next = next
    }
}
