/// A configured hook: a program run with an alert as JSON on stdin.
public struct HookCommand: Sendable, Equatable {
    /// The hook's name; its channel is `hook:NAME`.
    public var name: String
    /// The program and its arguments, run directly (never through a shell).
    public var arguments: [String]
    /// Alert kinds the hook runs for; `nil` for every kind.
    public var kinds: Set<String>?
    /// How long the hook may run before it is killed.
    public var timeout: Duration

    public init(name: String, arguments: [String], kinds: Set<String>? = nil, timeout: Duration = .seconds(30)) {
        self.name = name
        self.arguments = arguments
        self.kinds = kinds
        self.timeout = timeout
    }
}
