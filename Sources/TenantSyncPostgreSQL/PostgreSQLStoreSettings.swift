import TenantSyncCore

/// Where the PostgreSQL store connects and how.
public struct PostgreSQLStoreSettings: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    /// `nil` when the server authenticates otherwise (trust, peer); never logged.
    public var password: Secret?
    public var tls: PostgreSQLTLSMode
    /// PEM file of the CA that signed the server's certificate; `nil`: the system's roots.
    public var caFile: String?
    /// The node name, shown in `pg_stat_activity.application_name`.
    public var applicationName: String
    /// How long ``PostgreSQLStore/prepare()`` waits for a first connection.
    public var connectTimeout: Duration
    /// How long the server lets a session sit idle inside an open transaction before it ends the session (and so
    /// the transaction and its row locks): PostgreSQL's `idle_in_transaction_session_timeout`, sent at connection
    /// start. A node stopped mid-transaction (SIGSTOP, a frozen VM) keeps its connection open; without this, rows it
    /// locked stay locked, and every other node's claims pass over them, for as long as it stays stopped.
    /// `nil`: the server's setting (by default none).
    public var idleInTransactionTimeout: Duration?

    public init(
        host: String, port: Int, user: String, database: String, password: Secret?, tls: PostgreSQLTLSMode, caFile: String?,
        applicationName: String, connectTimeout: Duration = .seconds(10), idleInTransactionTimeout: Duration? = nil
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.database = database
        self.password = password
        self.tls = tls
        self.caFile = caFile
        self.applicationName = applicationName
        self.connectTimeout = connectTimeout
        self.idleInTransactionTimeout = idleInTransactionTimeout
    }

    /// `host:port` as an operator reads it in a message (an IPv6 address in brackets).
    var endpoint: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
