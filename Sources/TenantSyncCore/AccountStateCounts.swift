/// How many accounts are in each state, counted by the store (GROUP BY), not by loading them.
public struct AccountStateCounts: Sendable, Equatable {
    public var byState: [AccountState: Int]

    public init(byState: [AccountState: Int] = [:]) { self.byState = byState }

    public var total: Int { byState.values.reduce(0, +) }
    public subscript(state: AccountState) -> Int { byState[state] ?? 0 }
}
