import TenantSyncCore

/// An error that knows the secret-free facts of a failed token request.
public protocol TokenFailureConvertible {
    var tokenFailure: TokenFailure { get }
}
