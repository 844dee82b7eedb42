import TenantSyncCore

/// Everything the daemon asks of its store: the services' protocols and the store's lifecycle.
///
/// Both stores (SQLite embedded, PostgreSQL for several daemons) are one of these; past
/// ``Daemon/withStore(in:_:)``, which opens the configured one, the daemon names neither.
public typealias DaemonStorage = TenantSyncStorage & TokenLifecycleStore & CredentialExpiryStore & MetricsStateSource & StoreLifecycle
