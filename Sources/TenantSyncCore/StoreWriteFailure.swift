import struct Foundation.Date

/// The database refuses writes (disk full, read-only file system, I/O error): token refreshes are paused
/// so that no refresh token is redeemed whose successor could not be stored.
public struct StoreWriteFailure: Codable, Sendable, Equatable {
    /// The first failed write probe of this episode.
    public var failingSince: Date
    /// Failed probes in a row.
    public var failures: Int
    public var lastError: String
    /// When the refresher probes again (the backoff doubles up to its bound).
    public var nextCheckAt: Date

    public init(failingSince: Date, failures: Int, lastError: String, nextCheckAt: Date) {
        self.failingSince = failingSince
        self.failures = failures
        self.lastError = lastError
        self.nextCheckAt = nextCheckAt
    }
}
