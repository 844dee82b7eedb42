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

    public init(
        host: String, port: Int, user: String, database: String, password: Secret?, tls: PostgreSQLTLSMode, caFile: String?,
        applicationName: String, connectTimeout: Duration = .seconds(10)
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
    }

    /// `host:port` as an operator reads it in a message (an IPv6 address in brackets).
    var endpoint: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
