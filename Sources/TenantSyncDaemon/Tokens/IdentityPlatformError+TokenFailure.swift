import MicrosoftCloud
import TenantSyncCore

extension IdentityPlatformError: TokenFailureConvertible {
    public var tokenFailure: TokenFailure { failure }
}
