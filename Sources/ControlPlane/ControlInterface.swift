/// The interfaces the control socket serves and their Varlink IDL text.
public enum ControlInterface {
    /// `io.tenantsync.Control`.
    public static let name = "io.tenantsync.Control"

    /// The IDL of `io.tenantsync.Control`, embedded from `io.tenantsync.Control.varlink`
    /// so the installed daemon needs no resource files.
    public static let description: String = String(decoding: PackageResources.io_tenantsync_Control_varlink, as: UTF8.self)

    /// `org.varlink.service`, the interface every Varlink service implements.
    public static let serviceName = "org.varlink.service"

    /// The IDL of `org.varlink.service` (https://varlink.org/Service).
    public static let serviceDescription = """
        # The Varlink Service Interface is provided by every varlink service. It
        # describes the service and the interfaces it implements.
        interface org.varlink.service

        # Get a list of all the interfaces a service provides and information
        # about the implementation.
        method GetInfo() -> (
          vendor: string,
          product: string,
          version: string,
          url: string,
          interfaces: []string
        )

        # Get the description of an interface that is implemented by this service.
        method GetInterfaceDescription(interface: string) -> (description: string)

        # The requested interface was not found.
        error InterfaceNotFound (interface: string)

        # The requested method was not found
        error MethodNotFound (method: string)

        # The interface defines the requested method, but the service does not
        # implement it.
        error MethodNotImplemented (method: string)

        # One of the passed parameters is invalid.
        error InvalidParameter (parameter: string)

        # Client is denied access
        error PermissionDenied ()

        # Method is expected to be called with 'more' set to true, but wasn't
        error ExpectedMore ()

        """

    /// The descriptions by interface name.
    static let descriptions: [String: String] = [name: description, serviceName: serviceDescription]
}

/// What `org.varlink.service.GetInfo` reports.
public struct VarlinkServiceInfo: Codable, Sendable, Equatable {
    public var vendor: String
    public var product: String
    public var version: String
    public var url: String
    public var interfaces: [String]

    public init(vendor: String = "tenantsync", product: String = "tenantsyncd", version: String, url: String = "man:tenantsyncctl(1)", interfaces: [String] = [ControlInterface.serviceName, ControlInterface.name]) {
        self.vendor = vendor
        self.product = product
        self.version = version
        self.url = url
        self.interfaces = interfaces
    }
}
