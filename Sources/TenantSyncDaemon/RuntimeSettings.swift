import Synchronization
import TenantSyncConfig

/// The configuration in force, replaced as a whole when the daemon reloads.
///
/// Services read it each time they act, so a reload applies without restarting them.
public final class RuntimeSettings: Sendable {
    private let current: Mutex<DaemonConfiguration>

    public init(_ configuration: DaemonConfiguration) {
        self.current = Mutex(configuration)
    }

    public var configuration: DaemonConfiguration {
        current.withLock { $0 }
    }

    func replace(with configuration: DaemonConfiguration) {
        current.withLock { $0 = configuration }
    }
}
