/// How the control server listens and what it accepts.
public struct ControlServerConfiguration: Sendable {
    /// Where the listening socket comes from.
    public enum Listener: Sendable, Equatable {
        /// Create (or replace a stale) socket file at this path.
        case path(String)
        /// An already listening socket passed by systemd socket activation (`sd_listen_fds`).
        case inheritedDescriptor(Int32)
    }

    public var listener: Listener
    /// Members of this group may call, besides root; the socket file gets it as group owner.
    public var controlGroup: String?
    /// Largest message accepted, in bytes; larger ones get `MessageTooLarge` and the connection is closed.
    public var maximumMessageSize: Int
    /// Connections served at once; further ones are closed at accept.
    public var maximumConnections: Int
    /// A connection waiting this long for the client's next message (no call running, nothing received) is closed.
    public var idleTimeout: Duration
    /// A reply the client has not taken within this long (it stopped reading, the socket's buffers are full)
    /// closes the connection and ends its call.
    public var writeTimeout: Duration
    /// What `org.varlink.service.GetInfo` reports.
    public var info: VarlinkServiceInfo

    public init(
        listener: Listener, controlGroup: String? = nil, maximumMessageSize: Int = 1 << 20, maximumConnections: Int = 64,
        idleTimeout: Duration = .seconds(300), writeTimeout: Duration = .seconds(30), info: VarlinkServiceInfo
    ) {
        self.listener = listener
        self.controlGroup = controlGroup
        self.maximumMessageSize = maximumMessageSize
        self.maximumConnections = maximumConnections
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.info = info
    }
}
