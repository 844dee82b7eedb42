/// Which targets of a tenant are protected.
public enum SyncScope: String, Codable, Sendable, CaseIterable {
    /// All users and groups of the directory; synced daily.
    case all
    /// An explicit list of at most ``SyncScope/maximumSelectedTargets`` users; never synced automatically.
    case selected

    /// The console's limit on a selected scope.
    public static let maximumSelectedTargets = 100
    /// The shortest group-name prefix a search accepts.
    public static let minimumGroupPrefixLength = 3
}

/// What started a sync run.
public enum SyncTrigger: String, Codable, Sendable, CaseIterable {
    case daily, manual, extend, provision
}

/// Whether a run reads the whole directory or only the changes since the last one.
public enum SyncMode: String, Codable, Sendable, CaseIterable {
    case full, delta
}

/// The outcome of a sync run.
public enum SyncRunState: String, Codable, Sendable, CaseIterable {
    case running, succeeded, failed
    /// Stopped by the mass-deletion guard until an operator confirms it.
    case held
}
