/// An error an operator or an automation can act on.
///
/// `code` is stable and machine-readable (it becomes the Varlink error name and
/// the CLI exit code); `message` says what happened and what to do; `context`
/// gathers facts added as the error propagates (tenant, service, file, line).
public struct TenantSyncError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let invalidConfiguration = Code(rawValue: "InvalidConfiguration")
        public static let storeUnavailable = Code(rawValue: "StoreUnavailable")
        public static let schemaTooNew = Code(rawValue: "SchemaTooNew")
        public static let secretKeyUnavailable = Code(rawValue: "SecretKeyUnavailable")
        public static let secretCorrupted = Code(rawValue: "SecretCorrupted")
        public static let accountNotFound = Code(rawValue: "AccountNotFound")
        public static let accountExists = Code(rawValue: "AccountExists")
        public static let tenantNotFound = Code(rawValue: "TenantNotFound")
        public static let scopeConflict = Code(rawValue: "ScopeConflict")
        public static let syncNotAllowedForSelectedScope = Code(rawValue: "SyncNotAllowedForSelectedScope")
        public static let tooManyTargets = Code(rawValue: "TooManyTargets")
        public static let groupPrefixTooShort = Code(rawValue: "GroupPrefixTooShort")
        public static let userNotFound = Code(rawValue: "UserNotFound")
        public static let invalidArgument = Code(rawValue: "InvalidArgument")
        /// The tenant has no sync run held by the mass-deletion guard.
        public static let noHeldSync = Code(rawValue: "NoHeldSync")
        /// A write fenced by a lease was refused: the node no longer holds the lease (expired, released or taken over).
        public static let leaseLost = Code(rawValue: "LeaseLost")
        /// A heartbeat came from a node the store has no announcement of.
        public static let nodeNotAnnounced = Code(rawValue: "NodeNotAnnounced")
    }

    public var code: Code
    public var message: String
    public var context: [String: String]

    public init(_ code: Code, _ message: String, context: [String: String] = [:]) {
        self.code = code
        self.message = message
        self.context = context
    }

    /// Returns a copy with one more fact of context.
    public func adding(_ key: String, _ value: String) -> TenantSyncError {
        var copy = self
        copy.context[key] = value
        return copy
    }

    public var description: String {
        if context.isEmpty { return message }
        let facts = context.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return "\(message) (\(facts))"
    }
}
